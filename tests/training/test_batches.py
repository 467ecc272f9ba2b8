"""`make_batches`: one builder for training and validation batches of either sampling."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from training.batches import PairBatches, PKBatches, make_batches
from training.config import TrainConfig
from training.data import scan_image_tree, split_samples

CONFIG = TrainConfig(input_size=32, batch_size=8, steps_per_epoch=3, val_steps=2, workers=1)


def _split(frame_tree: Path):
    return split_samples(scan_image_tree(frame_tree), seed=CONFIG.seed)


def test_pair_batches_are_shaped_for_the_siamese_model(frame_tree: Path) -> None:
    split = _split(frame_tree)
    batches = make_batches(split.train, split.labels(split.train), CONFIG, validation=False)
    assert isinstance(batches, PairBatches) and len(batches) == CONFIG.steps_per_epoch
    (first, second), y = batches[0]
    assert first.shape == second.shape == (8, 32, 32, 3)
    assert sorted(y.tolist()) == [0.0] * 4 + [1.0] * 4  # positive_fraction 0.5


def test_training_batches_change_each_epoch_validation_batches_never(frame_tree: Path) -> None:
    split = _split(frame_tree)
    train = make_batches(split.train, split.labels(split.train), CONFIG, validation=False)
    val = make_batches(split.val, split.labels(split.val), CONFIG, validation=True)
    assert len(val) == CONFIG.val_steps and val.sampler.cross_source_positives is False
    before_train, before_val = train[0][0][0], val[0][0][0]
    train.on_epoch_end()
    val.on_epoch_end()
    assert not np.array_equal(train[0][0][0], before_train)
    assert np.array_equal(val[0][0][0], before_val)


def test_pk_batches_hold_p_titles_of_k_frames(frame_tree: Path) -> None:
    config = TrainConfig(
        input_size=32, sampling="pk", titles_per_batch=3, frames_per_title=2, workers=1
    )
    split = _split(frame_tree)
    batches = make_batches(split.train, split.labels(split.train), config, validation=False)
    assert isinstance(batches, PKBatches)
    images, labels = batches[0]
    assert images.shape == (6, 32, 32, 3)
    assert sorted(Counter(labels.tolist()).values()) == [2, 2, 2]
