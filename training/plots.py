"""Report figures (confusion matrix, t-SNE by title); matplotlib + scikit-learn: the train extra."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import numpy as np


class MissingExtraError(ImportError):
    """An optional plotting dependency is not installed."""


def _require(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"evaluation plots need {module.split('.')[0]}: pip install 'shazam-anime[train]'"
        ) from exc


def _pyplot() -> ModuleType:
    matplotlib = _require("matplotlib")
    matplotlib.use("Agg")  # files only: never needs a display
    return _require("matplotlib.pyplot")


def plot_confusion(matrix: np.ndarray, names: Sequence[str], path: Path, title: str) -> Path:
    plt = _pyplot()
    side = max(4.0, 0.45 * len(names) + 2)
    figure, axes = plt.subplots(figsize=(side + 1, side))
    image = axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
    axes.set_yticks(range(len(names)), names, fontsize=7)
    axes.set_xlabel("predicted title")
    axes.set_ylabel("true title")
    axes.set_title(title)
    if len(names) <= 30:
        for (row, col), count in np.ndenumerate(matrix):
            if count:
                axes.text(col, row, str(count), ha="center", va="center", fontsize=6)
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def plot_tsne(
    embeddings: np.ndarray,
    labels: np.ndarray,
    names: Sequence[str],
    path: Path,
    title: str,
    seed: int = 0,
    max_points: int = 3000,
) -> Path:
    """2-D t-SNE of the embeddings, one colour per title (subsampled beyond `max_points`)."""
    manifold = _require("sklearn.manifold")
    plt = _pyplot()
    rng = np.random.default_rng(seed)
    if len(embeddings) > max_points:
        keep = rng.choice(len(embeddings), max_points, replace=False)
        embeddings, labels = embeddings[keep], labels[keep]
    if len(embeddings) < 5:
        raise ValueError(f"t-SNE needs at least 5 points, got {len(embeddings)}")
    perplexity = float(min(30.0, (len(embeddings) - 1) / 3))
    points = manifold.TSNE(
        n_components=2, perplexity=perplexity, init="pca", random_state=seed
    ).fit_transform(np.asarray(embeddings, np.float64))
    figure, axes = plt.subplots(figsize=(8, 7))
    colours = plt.get_cmap("tab20" if len(names) > 10 else "tab10")
    for label, name in enumerate(names):
        mask = labels == label
        if mask.any():
            axes.scatter(*points[mask].T, s=8, color=colours(label % colours.N), label=name)
    axes.set_title(title)
    axes.set_xticks([])
    axes.set_yticks([])
    if len(names) <= 20:
        axes.legend(fontsize=6, markerscale=2, loc="best")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
