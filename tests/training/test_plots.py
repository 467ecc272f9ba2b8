"""Report figures are written as real PNG files, and too few points are a clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training.plots import plot_confusion, plot_tsne

NAMES = ["Show A", "Show B", "Show C"]


def _is_png(path: Path) -> bool:
    with Image.open(path) as image:
        return image.format == "PNG" and min(image.size) > 100


def test_confusion_figure_is_a_png(tmp_path: Path) -> None:
    matrix = np.array([[3, 1, 0], [0, 4, 0], [1, 0, 2]])
    assert _is_png(plot_confusion(matrix, NAMES, tmp_path / "confusion.png", "confusion"))


@pytest.mark.slow  # t-SNE's 1000 iterations: seconds even on 24 points
def test_tsne_figure_is_a_png(tmp_path: Path) -> None:
    labels = np.repeat(np.arange(3), 8)
    embeddings = np.random.default_rng(0).normal(size=(24, 16)) + 4 * np.eye(16)[labels]
    assert _is_png(plot_tsne(embeddings, labels, NAMES, tmp_path / "tsne.png", "t-SNE"))


def test_tsne_needs_five_points(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 5"):
        plot_tsne(np.zeros((4, 3)), np.zeros(4, int), ["x"], tmp_path / "t.png", "t")
