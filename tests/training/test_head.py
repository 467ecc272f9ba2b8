"""`train --mode head`: the Dense trained on frozen features, exported as the Siamese branch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.convert import checked_conversion
from model.exported import load_exported, read_metadata
from model.keras_embedder import KerasEmbedder, embedding_head
from tests.training.short_run import TINY_CONFIG
from training.config import TrainConfig
from training.head import HeadSpec, start_matrix, train_head
from training.siamese import backbone_of
from training.train import TrainError, train


def _clusters(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit features of 6 titles in 48 dims, each title a centre plus wide noise."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(6), 40)
    features = rng.normal(size=(6, 48))[labels] + 1.2 * rng.normal(size=(len(labels), 48))
    return features / np.linalg.norm(features, axis=1, keepdims=True), labels


def _separation(features: np.ndarray, labels: np.ndarray, matrix: np.ndarray) -> float:
    """Mean cosine to same-title frames minus mean cosine to other titles' after the head."""
    z = features @ matrix
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    sims, same = z @ z.T, labels[:, None] == labels[None, :]
    np.fill_diagonal(same, False)
    other = labels[:, None] != labels[None, :]
    return float(sims[same].mean() - sims[other].mean())


def test_the_head_starts_at_the_principal_axes_and_learns_to_separate_titles() -> None:
    features, labels = _clusters()
    spec = HeadSpec(dim=16, steps=0)
    start = start_matrix(features, spec, np.random.default_rng(0))
    assert np.allclose(start.T @ start, np.eye(16), atol=1e-5)  # orthonormal axes
    assert np.array_equal(train_head(features, labels, spec), start)  # no steps: the start
    for loss in ("pairs", "batch", "supcon"):
        trained = train_head(features, labels, HeadSpec(dim=16, loss=loss, steps=150, decay=0))
        assert _separation(features, labels, trained) > _separation(features, labels, start) + 0.05
    held = train_head(features, labels, HeadSpec(dim=16, steps=150, decay=1e3))
    assert np.abs(held - start).max() < 0.01  # a strong pull keeps the start


def test_fewer_frames_than_dims_pad_the_axes_with_orthogonal_noise() -> None:
    features, _ = _clusters()
    start = start_matrix(features[:10], HeadSpec(dim=32), np.random.default_rng(0))
    assert start.shape == (48, 32) and np.allclose(start.T @ start, np.eye(32), atol=1e-5)


@pytest.mark.slow
def test_head_mode_exports_the_branch_with_the_trained_dense(
    frame_tree: Path, tmp_path: Path
) -> None:
    config = TrainConfig(**{**TINY_CONFIG.to_dict(), "mode": "head", "steps_per_epoch": 30})
    result = train(frame_tree, tmp_path / "run", config, verbose=0)
    head = result.report["head"]
    assert head["steps"] == 30 and head["loss"] == "pairs" and head["moved_from_start"] > 0
    assert result.report["epochs_completed"] == 0  # no image epochs: fine-tune is skipped
    assert read_metadata(result.model_path)["training"]["method"] == "head-on-frozen-features"
    assert json.loads(result.report_path.read_text())["head"] == head

    # The export is the Siamese branch (backbone, GAP, Dense, L2) and serves like one; its
    # Dense has no bias, so it is the head on the frozen unit features exactly.
    embedder = load_exported(result.model_path)
    assert (embedder.dim, embedder.input_size) == (64, 64)
    model = embedder.model
    dense = model.get_layer("projection")
    assert not np.any(dense.get_weights()[1])
    frozen = KerasEmbedder(embedding_head(backbone_of(model), "frozen"), "frozen", embedder.fit)
    images = [Image.open(p) for p in sorted(frame_tree.glob("*/ep01/*.jpg"))[:6]]
    expected = frozen.embed(images) @ dense.get_weights()[0]
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(embedder.embed(images), expected, atol=1e-4)
    assert checked_conversion(model)  # LiteRT (`prepare-model`) serves it as it does any export

    with pytest.raises(TrainError, match="--resume"):  # the run dir is taken
        train(frame_tree, tmp_path / "run", config, verbose=0)
