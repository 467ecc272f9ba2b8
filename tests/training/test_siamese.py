"""The Siamese model: losses by hand, shared weights, and a loss that falls in training."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from model.backbones import build_backbone
from model.fit import fit_array
from training.data import PairSampler, scan_image_tree
from training.siamese import (
    BatchContrastiveLoss,
    ContrastiveLoss,
    build_embedding_model,
    build_siamese_model,
    freeze_backbone,
    unfreeze_backbone,
)


def test_contrastive_loss_by_hand() -> None:
    loss = ContrastiveLoss(margin=1.0, reduction=None)
    distances = np.array([[0.5], [0.5], [1.5], [0.0]], np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0], np.float32)  # 0 similar, 1 dissimilar
    values = keras.ops.convert_to_numpy(loss(y, distances))
    # similar: D^2/2; dissimilar: max(0, m - D)^2 / 2
    assert values == pytest.approx([0.125, 0.125, 0.0, 0.0])


def test_batch_contrastive_loss_by_hand() -> None:
    embeddings = np.array([[1.0, 0.0], [1.0, 0.0], [0.6, 0.8]], np.float32)
    labels = np.array([0, 0, 1])
    # Rows 0/1 coincide (pull 0); each is 0.894 from row 2: push (1 - 0.894)^2 / 2.
    distance = np.linalg.norm(embeddings[0] - embeddings[2])
    push = 0.5 * (1.0 - distance) ** 2
    hard = BatchContrastiveLoss(1.0, hard_negatives=True, reduction=None)
    values = keras.ops.convert_to_numpy(hard(labels, embeddings))
    assert values == pytest.approx([push, push, push], abs=1e-5)


@pytest.fixture(scope="module")
def embedding() -> keras.Model:
    keras.utils.set_random_seed(0)
    return build_embedding_model(build_backbone("efficientnet-lite0", 64), embedding_dim=32)


def test_branches_share_weights_and_output_unit_vectors(embedding: keras.Model) -> None:
    siamese = build_siamese_model(embedding)
    assert embedding.name == "embedding"
    assert len(siamese.weights) == len(embedding.weights)  # one branch, used twice
    images = np.random.default_rng(0).uniform(0, 255, (3, 64, 64, 3)).astype(np.float32)
    vectors = keras.ops.convert_to_numpy(embedding(images))
    assert np.linalg.norm(vectors, axis=1) == pytest.approx(np.ones(3), abs=1e-5)
    distances = keras.ops.convert_to_numpy(siamese([images, images]))
    assert distances.max() < 1e-3


def test_freezing_keeps_batchnorm_frozen(embedding: keras.Model) -> None:
    backbone = embedding.layers[1]
    freeze_backbone(embedding)
    assert len(embedding.trainable_weights) == 2  # only the projection's kernel and bias
    trainable_layers = unfreeze_backbone(embedding, frozen_layers=len(backbone.layers) // 2)
    assert 0 < trainable_layers
    assert all(not layer.trainable for layer in backbone.layers[: len(backbone.layers) // 2])
    assert not any(
        layer.trainable
        for layer in backbone.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    )
    freeze_backbone(embedding)


@pytest.mark.slow
def test_fine_tune_step_leaves_batchnorm_statistics_alone(embedding: keras.Model) -> None:
    """One real optimizer step after `unfreeze_backbone`: unfrozen convolutions and the head
    learn, while BatchNorm (moving mean/variance and scale/offset) and frozen layers do not."""
    backbone = embedding.layers[1]
    frozen = len(backbone.layers) // 2
    unfreeze_backbone(embedding, frozen_layers=frozen)
    layers = backbone.layers
    batchnorms = [x for x in layers if isinstance(x, keras.layers.BatchNormalization)]
    conv_types = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)
    convs = [x for x in layers[frozen:] if isinstance(x, conv_types)]
    assert batchnorms and convs
    watched = {
        "batchnorm": [w for layer in batchnorms for w in layer.weights],
        "frozen": [w for layer in layers[:frozen] for w in layer.weights],
        "convs": [w for layer in convs for w in layer.weights],
        "head": embedding.get_layer("projection").weights,
    }
    assert any("moving_mean" in w.path for w in watched["batchnorm"])
    before = {key: [w.numpy().copy() for w in weights] for key, weights in watched.items()}

    siamese = build_siamese_model(embedding)
    # Eager: the same train_step without 8 s of graph tracing for a single step.
    siamese.compile(keras.optimizers.Adam(1e-2), ContrastiveLoss(1.0), run_eagerly=True)
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 255, (2, 8, 64, 64, 3)).astype(np.float32)
    siamese.train_on_batch([images[0], images[1]], np.array([0, 1] * 4, np.float32))

    def changed(key: str) -> list[bool]:
        pairs = zip(before[key], watched[key], strict=True)
        return [not np.array_equal(old, weight.numpy()) for old, weight in pairs]

    assert not any(changed("batchnorm")) and not any(changed("frozen"))
    assert all(changed("head")) and all(changed("convs"))
    freeze_backbone(embedding)


@pytest.mark.slow
def test_contrastive_loss_falls(embedding: keras.Model, frame_tree: Path) -> None:
    samples = scan_image_tree(frame_tree)
    labels = np.array([sorted({s.title for s in samples}).index(s.title) for s in samples])
    first, second, y = PairSampler(labels, [s.source for s in samples]).sample(
        32, np.random.default_rng(0)
    )
    images = np.stack([fit_array(s.load(), 64) for s in samples])
    siamese = build_siamese_model(embedding)
    freeze_backbone(embedding)
    siamese.compile(keras.optimizers.Adam(3e-3), ContrastiveLoss(1.0), jit_compile=False)
    pairs = [images[first], images[second]]
    before = siamese.evaluate(pairs, y, verbose=0)
    siamese.fit(pairs, y, batch_size=32, epochs=6, verbose=0)
    after = siamese.evaluate(pairs, y, verbose=0)
    print(f"contrastive loss on 32 fixed pairs: {before:.4f} -> {after:.4f}")
    assert after < 0.7 * before, (before, after)
