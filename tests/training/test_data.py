"""Data loading, the leak-free split and the pair / P x K samplers."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training.data import (
    DataError,
    PairSampler,
    PKSampler,
    Sample,
    samples_from_frames,
    scan_image_tree,
    split_samples,
)


def test_scan_reads_titles_and_episode_sources(frame_tree: Path) -> None:
    samples = scan_image_tree(frame_tree)
    assert len(samples) == 4 * 4 * 8
    assert len({s.title for s in samples}) == 4
    assert len({s.source for s in samples}) == 16
    assert samples[0].load().mode == "RGB"


def test_split_holds_out_whole_episodes(frame_tree: Path) -> None:
    split = split_samples(scan_image_tree(frame_tree), seed=0)
    sources = {name: {s.source for s in part} for name, part in
               (("train", split.train), ("val", split.val), ("test", split.test))}  # fmt: skip
    assert not sources["train"] & sources["test"]
    assert not sources["train"] & sources["val"]
    assert not sources["val"] & sources["test"]
    assert set(split.mode.values()) == {"source"}
    report = split.report()
    assert report["frames"] == {"train": 64, "val": 32, "test": 32}
    assert all(len(report["frames_per_title"][part]) == 4 for part in ("train", "val", "test"))


def test_no_validation_share_trains_on_every_episode_not_held_out_for_testing(
    frame_tree: Path,
) -> None:
    split = split_samples(scan_image_tree(frame_tree), val_fraction=0.0, test_fraction=0.25)
    assert split.report()["frames"] == {"train": 96, "val": 0, "test": 32}  # 3 + 0 + 1 episodes


def test_split_without_sources_uses_contiguous_file_blocks(tmp_path: Path) -> None:
    for title in ("a", "b"):
        (tmp_path / title).mkdir()
        for i in range(10):
            Image.new("RGB", (8, 8), (i * 20, 0, 0)).save(tmp_path / title / f"f{i:02d}.png")
    split = split_samples(scan_image_tree(tmp_path), val_fraction=0.2, test_fraction=0.2)
    assert split.mode == {"a": "file-block", "b": "file-block"}
    test_names = sorted(s.path.name for s in split.test if s.title == "a")
    assert test_names == ["f08.png", "f09.png"]  # the tail block, not random neighbours
    assert sorted(s.path.name for s in split.val if s.title == "a") == ["f06.png", "f07.png"]


def test_bad_inputs_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        scan_image_tree(tmp_path / "missing")
    with pytest.raises(DataError, match="no images"):
        scan_image_tree(tmp_path)
    with pytest.raises(DataError, match="at least 2 titles"):
        split_samples([Sample("only", None, data=b"x")] * 5)
    with pytest.raises(DataError, match="cannot decode"):
        Sample("t", None, data=b"not an image").load()


def test_samples_from_catalog_frames() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 9), (0, 200, 0)).save(buffer, "JPEG")
    jpeg = buffer.getvalue()
    samples = samples_from_frames([(jpeg, "Show", "ep1"), (jpeg, "X", None)])
    assert [(s.title, s.source) for s in samples] == [("Show", "Show/ep1"), ("X", None)]
    assert samples[0].load().size == (16, 9)


def test_pair_sampler_balance_and_label_convention() -> None:
    labels = [0] * 10 + [1] * 10 + [2] * 40  # title 2 has 4x the frames
    sources = [f"t{label}/ep{i % 2}" for i, label in enumerate(labels)]
    sampler = PairSampler(labels, sources, positive_fraction=0.5)
    first, second, y = sampler.sample(2000, np.random.default_rng(0))
    label_arr = np.array(labels)
    same = label_arr[first] == label_arr[second]
    assert y.dtype == np.float32 and set(np.unique(y)) == {0.0, 1.0}
    assert np.array_equal(y == 0.0, same)  # Y=0 similar (same title), Y=1 dissimilar
    assert (y == 0).sum() == 1000
    assert not np.any(first == second)
    # Titles drawn uniformly: the big title does not dominate the positives.
    counts = Counter(label_arr[first[y == 0]].tolist())
    assert max(counts.values()) / min(counts.values()) < 1.3
    # Hard positives: partners come from another episode of the same title.
    source_arr = np.array(sources)
    assert np.all(source_arr[first[y == 0]] != source_arr[second[y == 0]])


def test_pk_sampler_batches() -> None:
    labels = [0] * 3 + [1] * 8 + [2] * 8
    sampler = PKSampler(labels, titles_per_batch=2, frames_per_title=4)
    batch = sampler.sample(np.random.default_rng(1))
    assert len(batch) == sampler.batch_size == 8
    per_title = Counter(np.array(labels)[batch].tolist())
    assert len(per_title) == 2 and set(per_title.values()) == {4}
    with pytest.raises(DataError):
        PKSampler([0, 0, 0], 2, 2)
