"""The vector engine behind `FrameStore`: what it needs of one, and the embedded hnswlib engine.

The catalog is the source of truth for both engines: an engine only has to open (and repair
against the catalog), build from the catalog, take adds/removes, search and save. `FrameStore`
speaks this interface alone, so the same store tests run on hnswlib and on Milvus.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import numpy as np

from index.store.catalog import Catalog
from index.store.checkpoint import CheckpointIdentity, save_checkpoint
from index.store.reconcile import reconcile
from index.store.vectors import MIN_CAPACITY, HnswVectors


class VectorIndex(Protocol):
    """One model's vectors, keyed by frame id; thread-safe."""

    live_count: int
    max_label: int  # largest id ever held: new ids must be above it
    changes_since_save: int

    def add(self, labels: object, vectors: np.ndarray) -> None: ...

    def remove(self, labels: object) -> int: ...

    def search(
        self, queries: np.ndarray, k: int, *, allowed: frozenset[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(labels, cosine distances) per query, best first, padded with -1 / inf; only labels
        in `allowed` when it is given (a search within one title)."""
        ...

    def describe(self) -> dict[str, object]:
        """Figures for `FrameStore.stats()`."""
        ...


class VectorBackend(Protocol):
    """Opens, builds, saves and retires `VectorIndex`es for one data directory."""

    name: str

    def open(
        self,
        catalog: Catalog,
        directory: Path,
        identity: CheckpointIdentity,
        *,
        read_only: bool = False,
    ) -> tuple[VectorIndex, bool]:
        """The index for `identity`, repaired against the catalog; and whether it was clean.

        `read_only` must leave what is on disk or on the server as it is."""
        ...

    def build(
        self,
        identity: CheckpointIdentity,
        batches: Iterable[tuple[object, np.ndarray]],
        count: int,
    ) -> VectorIndex:
        """A new index for `identity` holding `batches` (a re-embed's vectors)."""
        ...

    def save(self, vectors: VectorIndex, directory: Path, identity: CheckpointIdentity) -> None:
        """Make the index durable (raises OSError on failure)."""
        ...

    def retire(self, vectors: VectorIndex) -> None:
        """Free an index that a re-embed replaced."""
        ...

    def close(self) -> None: ...


class HnswBackend:
    """hnswlib in this process, checkpointed to `index.bin` beside the catalog."""

    name = "hnswlib"

    def __init__(
        self, *, m: int = 16, ef_construction: int = 200, ef: int = 128, num_threads: int | None
    ) -> None:
        self.m, self.ef_construction, self.ef = m, ef_construction, ef
        self.num_threads = num_threads

    def open(
        self,
        catalog: Catalog,
        directory: Path,
        identity: CheckpointIdentity,
        *,
        read_only: bool = False,
    ) -> tuple[HnswVectors, bool]:
        # The repair happens in memory; only `save` writes, and a read-only store never saves.
        return reconcile(
            catalog, directory, identity, self.m, self.ef_construction, self.ef, self.num_threads
        )

    def build(
        self,
        identity: CheckpointIdentity,
        batches: Iterable[tuple[object, np.ndarray]],
        count: int,
    ) -> HnswVectors:
        vectors = HnswVectors.create(
            identity.index_dim,
            m=self.m,
            ef_construction=self.ef_construction,
            ef=self.ef,
            capacity=max(MIN_CAPACITY, count + 1),
            num_threads=self.num_threads,
        )
        for ids, data in batches:
            vectors.add(ids, identity.to_index(data))
        return vectors

    def save(self, vectors: VectorIndex, directory: Path, identity: CheckpointIdentity) -> None:
        assert isinstance(vectors, HnswVectors)
        save_checkpoint(vectors, directory, identity)

    def retire(self, vectors: VectorIndex) -> None:
        """Nothing to free: the old index is garbage once unreferenced."""

    def close(self) -> None:
        """Nothing held beyond the index itself."""
