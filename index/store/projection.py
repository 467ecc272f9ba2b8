"""The index's projection: embeddings to fewer dimensions for the vector index alone.

hnswlib holds float32 only, so its memory per frame is 4 bytes a dimension plus the graph: a
1280-dim embedding costs ~5.3 KB a frame, a 192-dim one ~0.9 KB. The catalog keeps the full
vector (int8 codes, `vector_codec.pack_vectors`), so the index only has to find a short
list that holds the true nearest frames, which the store then re-scores exactly
(`FrameStore.search`). An uncentred PCA (the top right singular vectors of unit embeddings)
keeps cosine order best for that (docs/compact.md): it is fitted once per model on a fixed
reference set, never on the catalog, and stored in the catalog with the model claim, so the
index of a catalog never changes under it.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from index.store.catalog import Catalog
    from index.store.state import IndexState

# Frames the index returns per frame asked, re-scored from the catalog's full vectors: at 100k
# frames 0.85 (Big Buck Bunny) to 0.97 (generated) of a query's true top 50 were inside the top
# 200 of the 192-dim projection, 0.70-0.93 inside the top 100 (docs/compact.md, bench/shortlist).
SHORTLIST_FACTOR = 4


@dataclass(frozen=True, eq=False)
class Projection:
    """An orthonormal basis `(in_dim, out_dim)`; `apply` maps unit vectors to unit vectors."""

    basis: np.ndarray
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        basis = np.ascontiguousarray(self.basis, dtype="<f4")
        if basis.ndim != 2 or not 0 < basis.shape[1] <= basis.shape[0]:
            raise ValueError(
                f"a projection basis is (in_dim, out_dim <= in_dim), got {basis.shape}"
            )
        object.__setattr__(self, "basis", basis)
        object.__setattr__(self, "digest", hashlib.sha256(basis.tobytes()).hexdigest()[:16])

    @property
    def in_dim(self) -> int:
        return int(self.basis.shape[0])

    @property
    def out_dim(self) -> int:
        return int(self.basis.shape[1])

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """Project rows and normalise them again (cosine is what the index compares)."""
        projected = np.asarray(vectors, dtype=np.float32) @ self.basis
        norms = np.linalg.norm(projected, axis=1, keepdims=True)
        return projected / np.maximum(norms, 1e-12)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.save(buffer, self.basis, allow_pickle=False)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Projection:
        return cls(np.load(io.BytesIO(data), allow_pickle=False))


def fit_projection(vectors: np.ndarray, dims: int) -> Projection:
    """Uncentred PCA of unit `vectors` to `dims` (at most their count and their dimension)."""
    data = np.asarray(vectors, dtype=np.float64)
    dims = min(dims, *data.shape)
    _, _, rows = np.linalg.svd(data, full_matrices=False)
    return Projection(rows[:dims].T)


def search_rescored(
    state: IndexState,
    catalog: Catalog,
    queries: np.ndarray,
    k: int,
    allowed: frozenset[int] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """`VectorIndex.search` through a projected index: its short lists (`SHORTLIST_FACTOR` x k)
    ordered by exact cosine with the catalog's full vectors, cut to `k`. A label the catalog
    no longer has (removed meanwhile) is dropped."""
    projected = state.identity.to_index(queries)
    labels, _ = state.vectors.search(projected, k * SHORTLIST_FACTOR, allowed=allowed)
    found = list(catalog.vectors_for(np.unique(labels[labels >= 0]).tolist(), state.dim))
    out_labels = np.full((len(queries), k), -1, dtype=np.int64)
    out_distances = np.full((len(queries), k), np.inf, dtype=np.float32)
    if not found:
        return out_labels, out_distances
    ids = np.concatenate([batch for batch, _ in found])
    vectors = found[0][1] if len(found) == 1 else np.concatenate([v for _, v in found])
    # Every (catalog row, query) similarity at once: no copy of the rows per query.
    similarities = vectors @ np.asarray(queries, dtype=vectors.dtype).T
    order = np.argsort(ids)
    at = np.minimum(np.searchsorted(ids, labels, sorter=order), len(ids) - 1)
    rows = order[at]
    known = (labels >= 0) & (ids[rows] == labels)
    for i in range(len(queries)):
        row_ids, row_labels = rows[i][known[i]], labels[i][known[i]]
        scores = similarities[row_ids, i]
        best = np.argsort(-scores, kind="stable")[:k]
        out_labels[i, : best.size] = row_labels[best]
        out_distances[i, : best.size] = 1.0 - scores[best]
    return out_labels, out_distances
