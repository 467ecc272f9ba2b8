"""hnswlib cosine index plus label bookkeeping, guarded by a readers-writer lock."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import hnswlib
import numpy as np

from index.store.rwlock import ReadWriteLock

SPACE = "cosine"
MIN_CAPACITY = 1024


def _as_labels(labels: object) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(labels, dtype=np.int64).reshape(-1))


class HnswVectors:
    """One hnswlib index; searches share a read lock, mutations take the write lock.

    hnswlib keeps deleted labels in its label table but exposes no "is deleted" query, so the
    live and deleted label sets are mirrored here. Labels must be fresh: re-adding a label the
    index has seen (live or deleted) with `replace_deleted=True` corrupts hnswlib's label table,
    so `add` refuses it.
    """

    def __init__(
        self,
        index: hnswlib.Index,
        *,
        ef: int,
        num_threads: int | None,
        deleted: set[int],
    ) -> None:
        self._index = index
        self._lock = ReadWriteLock()
        self._num_threads = max(1, num_threads or os.cpu_count() or 1)
        self._index.set_num_threads(self._num_threads)
        # hnswlib does not persist ef: it must be set again after every load.
        self._index.set_ef(ef)
        all_labels = set(map(int, index.get_ids_list()))
        self._deleted = deleted & all_labels
        self._live = all_labels - self._deleted
        self._max_label = max(all_labels) if all_labels else -1
        self.changes_since_save = 0

    @classmethod
    def create(
        cls,
        dim: int,
        *,
        m: int,
        ef_construction: int,
        ef: int,
        capacity: int = MIN_CAPACITY,
        num_threads: int | None = None,
    ) -> HnswVectors:
        index = hnswlib.Index(space=SPACE, dim=dim)
        index.init_index(
            max_elements=max(capacity, MIN_CAPACITY),
            M=m,
            ef_construction=ef_construction,
            allow_replace_deleted=True,
        )
        return cls(index, ef=ef, num_threads=num_threads, deleted=set())

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        dim: int,
        ef: int,
        deleted: set[int],
        num_threads: int | None = None,
    ) -> HnswVectors:
        """Load a saved index; raises RuntimeError (from hnswlib) when the file is unreadable."""
        index = hnswlib.Index(space=SPACE, dim=dim)
        index.load_index(str(path), max_elements=0, allow_replace_deleted=True)
        return cls(index, ef=ef, num_threads=num_threads, deleted=deleted)

    # -- read-only properties -------------------------------------------------------------------

    @property
    def dim(self) -> int:
        return int(self._index.dim)

    @property
    def m(self) -> int:
        return int(self._index.M)

    @property
    def ef_construction(self) -> int:
        return int(self._index.ef_construction)

    @property
    def ef(self) -> int:
        return int(self._index.ef)

    @property
    def capacity(self) -> int:
        return int(self._index.get_max_elements())

    @property
    def live_count(self) -> int:
        return len(self._live)

    @property
    def deleted_count(self) -> int:
        return len(self._deleted)

    @property
    def max_label(self) -> int:
        """Largest label ever held (live or deleted); new labels must be above it."""
        return self._max_label

    def live_labels(self) -> np.ndarray:
        with self._lock.read():
            return np.fromiter(self._live, dtype=np.int64, count=len(self._live))

    def deleted_labels(self) -> np.ndarray:
        with self._lock.read():
            return np.fromiter(self._deleted, dtype=np.int64, count=len(self._deleted))

    def contains(self, label: int) -> bool:
        return int(label) in self._live

    def describe(self) -> dict[str, object]:
        return {
            "index_live": self.live_count,
            "index_deleted": self.deleted_count,
            "index_capacity": self.capacity,
            "M": self.m,
            "ef_construction": self.ef_construction,
            "ef": self.ef,
        }

    # -- mutations ------------------------------------------------------------------------------

    def set_ef(self, ef: int) -> None:
        with self._lock.write():
            self._index.set_ef(ef)

    def add(self, labels: object, vectors: np.ndarray) -> None:
        """Add fresh labels; all or nothing (a failure mid-way marks the added ones deleted)."""
        labels_arr = _as_labels(labels)
        data = np.ascontiguousarray(vectors, dtype=np.float32)
        if data.ndim != 2 or data.shape != (len(labels_arr), self.dim):
            raise ValueError(f"vectors must have shape ({len(labels_arr)}, {self.dim})")
        if len(labels_arr) == 0:
            return
        if len(np.unique(labels_arr)) != len(labels_arr):
            raise ValueError("duplicate labels in one add")
        with self._lock.write():
            seen = [int(x) for x in labels_arr if int(x) in self._live or int(x) in self._deleted]
            if seen:
                raise ValueError(f"labels already used in the index: {seen[:5]}")
            self._ensure_capacity(len(labels_arr))
            try:
                self._index.add_items(data, labels_arr, replace_deleted=True)
            except BaseException:
                self._rollback_partial_add(labels_arr)
                raise
            self._after_add(labels_arr)

    def remove(self, labels: object) -> int:
        """Mark labels deleted (gone from search at once); unknown labels are ignored."""
        removed = 0
        with self._lock.write():
            for label in map(int, _as_labels(labels)):
                if label in self._live:
                    self._index.mark_deleted(label)
                    self._live.discard(label)
                    self._deleted.add(label)
                    removed += 1
            self.changes_since_save += removed
        return removed

    def _ensure_capacity(self, incoming: int) -> None:
        # Deleted slots are reused by replace_deleted, so only the excess needs new room.
        new_slots = max(0, incoming - len(self._deleted))
        needed = int(self._index.element_count) + new_slots
        capacity = self.capacity
        if needed > capacity:
            self._index.resize_index(max(needed, 2 * capacity))

    def _after_add(self, labels: np.ndarray) -> None:
        had_deleted = bool(self._deleted)
        self._live.update(map(int, labels))
        self._max_label = max(self._max_label, int(labels.max()))
        if had_deleted:
            # replace_deleted reused some deleted slots and dropped their labels; which ones
            # hnswlib does not say, so ask its label table.
            self._deleted &= set(map(int, self._index.get_ids_list()))
        self.changes_since_save += len(labels)

    def _rollback_partial_add(self, labels: np.ndarray) -> None:
        present = set(map(int, self._index.get_ids_list())) & set(map(int, labels))
        for label in present:
            try:
                self._index.mark_deleted(label)
            except RuntimeError:
                pass  # already deleted
        self._deleted = (self._deleted | present) & set(map(int, self._index.get_ids_list()))
        if present:
            self._max_label = max(self._max_label, max(present))

    # -- search ---------------------------------------------------------------------------------

    def search(
        self, queries: np.ndarray, k: int, *, allowed: frozenset[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest live labels per query, best first; rows are padded with label -1 / distance inf.

        k is clamped to the live count. hnswlib raises when it cannot return k results (after
        deletions, or a small ef); those rows are retried with the largest k that works.
        `allowed` limits the search to those labels (hnswlib's filter, checked per visited node).
        """
        data = np.ascontiguousarray(queries, dtype=np.float32)
        q = data.shape[0]
        keep = None if allowed is None else allowed.__contains__
        with self._lock.read():
            kk = min(int(k), len(self._live) if allowed is None else len(allowed & self._live))
            labels = np.full((q, max(kk, 0)), -1, dtype=np.int64)
            distances = np.full((q, max(kk, 0)), np.inf, dtype=np.float32)
            if kk <= 0 or q == 0:
                return labels, distances
            try:
                found, dist = self._index.knn_query(data, k=kk, filter=keep)
                return found.astype(np.int64), dist.astype(np.float32)
            except RuntimeError:
                for row in range(q):
                    row_labels, row_dist = self._search_row(data[row : row + 1], kk, keep)
                    labels[row, : len(row_labels)] = row_labels
                    distances[row, : len(row_dist)] = row_dist
                return labels, distances

    def _search_row(
        self, query: np.ndarray, k: int, keep: Callable[[int], bool] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        # Binary search for the largest k hnswlib can satisfy for this query.
        best = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))
        low, high = 0, k + 1
        while high - low > 1:
            mid = (low + high) // 2
            try:
                found, dist = self._index.knn_query(query, k=mid, filter=keep)
            except RuntimeError:
                high = mid
                continue
            best = (found[0].astype(np.int64), dist[0].astype(np.float32))
            low = mid
        return best

    # -- persistence ----------------------------------------------------------------------------

    def save_to(self, path: Path) -> dict[str, object]:
        """Write the index to `path` and return the bookkeeping that describes that exact file."""
        with self._lock.read():
            self._index.save_index(str(path))
            return {
                "changes": self.changes_since_save,
                "live": np.fromiter(self._live, dtype=np.int64, count=len(self._live)),
                "deleted": sorted(self._deleted),
                "file_size": int(self._index.index_file_size()),
                "capacity": self.capacity,
                "m": self.m,
                "ef_construction": self.ef_construction,
            }

    def mark_saved(self, changes: int) -> None:
        with self._lock.write():
            self.changes_since_save = max(0, self.changes_since_save - changes)
