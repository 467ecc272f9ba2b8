"""Opening the index: load the checkpoint and repair it against the catalog, or rebuild it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.store.catalog import Catalog
from index.store.checkpoint import (
    INDEX_FILE,
    META_FILE,
    CheckpointError,
    CheckpointIdentity,
    load_checkpoint,
)
from index.store.vectors import MIN_CAPACITY, HnswVectors

if TYPE_CHECKING:
    from index.store.milvus import MilvusVectors

logger = logging.getLogger(__name__)

BUILD_BATCH = 10_000  # catalog vectors read per step when (re)building an index


def reconcile(
    catalog: Catalog,
    directory: Path,
    identity: CheckpointIdentity,
    m: int,
    ef_construction: int,
    ef: int,
    num_threads: int | None,
) -> tuple[HnswVectors, bool]:
    """Load the checkpoint and repair it against the catalog, or rebuild it from the catalog.

    Returns the index and whether the checkpoint on disk already matched the catalog.
    """
    catalog_ids = catalog.frame_ids()

    def rebuild() -> tuple[HnswVectors, bool]:
        return build_from_catalog(
            catalog, identity, m, ef_construction, ef, num_threads, catalog_ids.size
        ), False

    try:
        vectors = load_checkpoint(directory, identity, ef=ef, num_threads=num_threads)
    except CheckpointError as exc:
        if catalog_ids.size or (directory / META_FILE).exists():
            logger.warning(
                "rebuilding the index from the catalog (%d frames): %s", catalog_ids.size, exc
            )
        return rebuild()
    if (vectors.m, vectors.ef_construction) != (m, ef_construction):
        logger.info(
            "index keeps M=%d ef_construction=%d from its checkpoint (asked M=%d "
            "ef_construction=%d); delete %s to rebuild with the new values",
            vectors.m,
            vectors.ef_construction,
            m,
            ef_construction,
            INDEX_FILE,
        )
    live = vectors.live_labels()
    stale = np.setdiff1d(live, catalog_ids)
    missing = np.setdiff1d(catalog_ids, live)
    if np.intersect1d(missing, vectors.deleted_labels()).size:
        # A label hnswlib holds as deleted cannot be re-added safely: start over.
        logger.warning("index checkpoint has deleted labels the catalog still uses: rebuilding")
        return rebuild()
    return vectors, repair(vectors, catalog, stale, missing, identity)


def repair(
    vectors: HnswVectors | MilvusVectors,
    catalog: Catalog,
    stale: np.ndarray,
    missing: np.ndarray,
    identity: CheckpointIdentity,
) -> bool:
    """Remove `stale` ids, add the catalog's vectors of `missing` ones; True if nothing to do."""
    if stale.size:
        vectors.remove(stale)
    for ids, batch in catalog.vectors_for(missing.tolist(), identity.dim):
        vectors.add(ids, identity.to_index(batch))
    if stale.size or missing.size:
        logger.warning(
            "vector index was stale, repaired: added %d frames missing from it, "
            "deleted %d frames no longer in the catalog",
            missing.size,
            stale.size,
        )
    return not (stale.size or missing.size)


def build_from_catalog(
    catalog: Catalog,
    identity: CheckpointIdentity,
    m: int,
    ef_construction: int,
    ef: int,
    num_threads: int | None,
    count: int,
) -> HnswVectors:
    """A fresh index holding every catalog vector, sized for `count` frames plus some growth."""
    vectors = HnswVectors.create(
        identity.index_dim,
        m=m,
        ef_construction=ef_construction,
        ef=ef,
        capacity=max(MIN_CAPACITY, count + count // 8),
        num_threads=num_threads,
    )
    for ids, batch in catalog.iter_vectors(BUILD_BATCH, identity.dim):
        vectors.add(ids, identity.to_index(batch))
    if count:
        logger.warning("rebuilt the index from the catalog: %d frames", vectors.live_count)
    return vectors
