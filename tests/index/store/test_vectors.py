"""HnswVectors on real hnswlib: clamping, growth, slot reuse, ef after load, recall."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.store.vectors import MIN_CAPACITY, HnswVectors
from tests.index.storekit import clustered, unit
from training.metrics import exact_top_k, neighbour_recall

DIM = 24


def make(capacity: int = MIN_CAPACITY, ef: int = 64) -> HnswVectors:
    return HnswVectors.create(
        DIM, m=16, ef_construction=100, ef=ef, capacity=capacity, num_threads=2
    )


def random_unit(n: int, seed: int) -> np.ndarray:
    return unit(np.random.default_rng(seed).normal(size=(n, DIM)))


def test_search_on_empty_index_returns_empty_rows() -> None:
    labels, distances = make().search(random_unit(3, 0), 10)
    assert labels.shape == (3, 0) and distances.shape == (3, 0)


def test_k_larger_than_live_count_is_clamped() -> None:
    vectors = make()
    data = random_unit(5, 1)
    vectors.add(np.arange(10, 15), data)
    labels, distances = vectors.search(data, 50)
    assert labels.shape == (5, 5)
    assert labels[:, 0].tolist() == list(range(10, 15))
    assert np.allclose(distances[:, 0], 0.0, atol=1e-5)


def test_deleted_labels_leave_results_and_k_clamps_to_live() -> None:
    vectors = make()
    data = random_unit(20, 2)
    vectors.add(np.arange(20), data)
    assert vectors.remove(np.arange(0, 20, 2)) == 10
    labels, _ = vectors.search(data, 20)
    assert labels.shape == (20, 10)
    assert set(labels.ravel().tolist()) <= set(range(1, 20, 2))
    assert (vectors.live_count, vectors.deleted_count) == (10, 10)


def test_unsatisfiable_k_after_deletions_is_retried_not_raised() -> None:
    # A sparse graph (M=4, ef=1) with 90% deleted: hnswlib itself raises for k=100 here.
    vectors = HnswVectors.create(24, m=4, ef_construction=10, ef=1, num_threads=1)
    data = clustered(1000, 24, 50, seed=8, spread=0.05)
    vectors.add(np.arange(1000), data)
    deleted = np.random.default_rng(8).choice(1000, 900, replace=False)
    vectors.remove(deleted)
    with pytest.raises(RuntimeError, match="contiguous 2D array"):
        vectors._index.knn_query(data[:200], k=100)
    labels, distances = vectors.search(data[:200], 100)
    assert labels.shape == (200, 100)
    live = set(range(1000)) - set(deleted.tolist())
    for row_labels, row_distances in zip(labels, distances, strict=True):
        found = row_labels[row_labels >= 0]
        assert len(found) > 0 and set(found.tolist()) <= live
        # padding only at the end of a row, real distances sorted best first
        assert (row_labels[len(found) :] == -1).all()
        assert np.all(np.diff(row_distances[: len(found)]) >= -1e-6)


def test_growth_past_initial_capacity() -> None:
    vectors = make(capacity=MIN_CAPACITY)
    data = random_unit(2500, 4)
    for start in range(0, 2500, 500):
        vectors.add(np.arange(start, start + 500), data[start : start + 500])
    assert vectors.capacity >= 2500 and vectors.live_count == 2500
    labels, _ = vectors.search(data[[0, 1234, 2499]], 1)
    assert labels[:, 0].tolist() == [0, 1234, 2499]


def test_deleted_slots_are_reused_without_growing() -> None:
    vectors = make(capacity=MIN_CAPACITY)
    vectors.add(np.arange(MIN_CAPACITY), random_unit(MIN_CAPACITY, 5))
    vectors.remove(np.arange(100))
    fresh = random_unit(100, 6)
    vectors.add(np.arange(5000, 5100), fresh)
    assert vectors.capacity == MIN_CAPACITY
    assert vectors.deleted_count == 0 and vectors.live_count == MIN_CAPACITY
    labels, _ = vectors.search(fresh, 1)
    assert labels[:, 0].tolist() == list(range(5000, 5100))


def test_labels_are_never_reused() -> None:
    vectors = make()
    vectors.add([1, 2], random_unit(2, 7))
    vectors.remove([2])
    with pytest.raises(ValueError, match="already used"):
        vectors.add([2], random_unit(1, 8))
    with pytest.raises(ValueError, match="already used"):
        vectors.add([1], random_unit(1, 8))
    assert vectors.live_count == 1


def test_ef_is_applied_again_after_load(tmp_path: Path) -> None:
    vectors = make(ef=77)
    vectors.add(np.arange(50), random_unit(50, 9))
    vectors.remove([3])
    vectors.save_to(tmp_path / "index.bin")
    loaded = HnswVectors.load(tmp_path / "index.bin", dim=DIM, ef=91, deleted={3})
    assert loaded.ef == 91
    assert loaded.live_count == 49 and loaded.deleted_count == 1
    assert 3 not in set(loaded.search(random_unit(5, 10), 49)[0].ravel().tolist())


def test_recall_at_10_against_brute_force() -> None:
    base = clustered(4000, 48, clusters=80, seed=11)
    queries = unit(base[::20] + 0.05 * np.random.default_rng(12).normal(size=(200, 48)))
    vectors = HnswVectors.create(48, m=16, ef_construction=200, ef=64, capacity=4000)
    vectors.add(np.arange(4000), base)
    labels, _ = vectors.search(queries, 10)
    recall = neighbour_recall(labels.tolist(), exact_top_k(base, queries, 10))
    assert recall >= 0.95, recall


class _FailingHalfway:
    """Wraps a real hnswlib index; add_items inserts the first half, then fails like OOM."""

    def __init__(self, index: object) -> None:
        self._index = index

    def __getattr__(self, name: str) -> object:
        return getattr(self._index, name)

    def add_items(self, data: np.ndarray, ids: np.ndarray, **kwargs: object) -> None:
        half = len(ids) // 2
        self._index.add_items(data[:half], ids[:half], **kwargs)
        raise RuntimeError("std::bad_alloc")


def test_partial_add_is_rolled_back() -> None:
    vectors = make()
    old = random_unit(10, 13)
    vectors.add(np.arange(10), old)
    vectors._index = _FailingHalfway(vectors._index)
    with pytest.raises(RuntimeError, match="bad_alloc"):
        vectors.add(np.arange(100, 120), random_unit(20, 14))
    vectors._index = vectors._index._index
    assert vectors.live_count == 10
    labels, _ = vectors.search(random_unit(5, 15), 30)
    assert set(labels.ravel().tolist()) == set(range(10))
    with pytest.raises(ValueError, match="already used"):  # half-added labels stay burnt
        vectors.add([100], random_unit(1, 16))
