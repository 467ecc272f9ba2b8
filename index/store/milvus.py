"""Milvus as the vector engine: embedded `milvus-lite` for a file URI, a server or cluster for
`http://host:19530`. SQLite stays the catalog; Milvus holds (frame id, vector) per model.

One collection per model generation, `<collection>_g<generation>`: a re-embed builds the next
one and drops the old after the catalog switched, and an open drops any other generation (left
by a crash in between). "Repair at open" is the hnswlib one: ids the catalog lacks are deleted,
catalog frames Milvus lacks are inserted from the catalog's vectors. A crash between a catalog
commit and the Milvus write therefore costs a repair, never a wrong answer: search keeps only
ids the catalog knows. Collections are created with Strong consistency, so an add is searchable
(and a delete gone) when the call returns.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from index.errors import StoreError
from index.store.catalog import Catalog
from index.store.checkpoint import CheckpointIdentity
from index.store.reconcile import repair
from index.store.vectors import HnswVectors

logger = logging.getLogger(__name__)

MAX_LIMIT = 16_384  # Milvus's largest top-k per search
INSERT_BATCH = 2_000
SCAN_BATCH = 10_000


def _labels(labels: object) -> list[int]:
    return [int(x) for x in np.asarray(labels, dtype=np.int64).reshape(-1)]


class MilvusVectors:
    """One Milvus collection of (id, vector) rows; the client is thread-safe."""

    def __init__(self, client: object, name: str, dim: int, search_params: dict) -> None:
        self._client = client
        self.name = name
        self.dim = dim
        self._search_params = {"metric_type": "COSINE", "params": dict(search_params)}
        self._mutex = threading.Lock()  # keeps the count right under concurrent writers
        ids = self.live_labels()
        self.live_count = int(ids.size)
        self.max_label = int(ids.max(initial=-1))
        self.changes_since_save = 0

    def live_labels(self) -> np.ndarray:
        """Every id in the collection (a full scan: used at open, not per request)."""
        iterator = self._client.query_iterator(
            self.name, batch_size=SCAN_BATCH, filter="id >= 0", output_fields=["id"]
        )
        ids: list[int] = []
        try:
            while batch := iterator.next():
                ids.extend(int(row["id"]) for row in batch)
        finally:
            iterator.close()
        return np.asarray(sorted(ids), dtype=np.int64)

    def add(self, labels: object, vectors: np.ndarray) -> None:
        ids = _labels(labels)
        data = np.ascontiguousarray(vectors, dtype=np.float32)
        if data.ndim != 2 or data.shape != (len(ids), self.dim):
            raise ValueError(f"vectors must have shape ({len(ids)}, {self.dim})")
        with self._mutex:
            for start in range(0, len(ids), INSERT_BATCH):
                rows = [
                    {"id": ids[i], "vector": data[i]}
                    for i in range(start, min(start + INSERT_BATCH, len(ids)))
                ]
                self._client.insert(self.name, rows)
                self.live_count += len(rows)
            if ids:
                self.max_label = max(self.max_label, max(ids))
            self.changes_since_save += len(ids)

    def remove(self, labels: object) -> int:
        """Delete ids (gone from search at once); unknown ids are ignored."""
        ids = _labels(labels)
        if not ids:
            return 0
        with self._mutex:
            present = [int(row["id"]) for row in self._client.get(self.name, ids=ids)]
            if present:
                self._client.delete(self.name, ids=present)
            self.live_count -= len(present)
            self.changes_since_save += len(present)
        return len(present)

    def search(
        self, queries: np.ndarray, k: int, *, allowed: frozenset[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        data = np.ascontiguousarray(queries, dtype=np.float32)
        q = data.shape[0]
        limit = min(int(k), self.live_count, MAX_LIMIT)
        if allowed is not None:
            limit = min(limit, len(allowed))
        labels = np.full((q, max(limit, 0)), -1, dtype=np.int64)
        distances = np.full((q, max(limit, 0)), np.inf, dtype=np.float32)
        if limit <= 0 or q == 0:
            return labels, distances
        rows = self._query(data, limit, allowed)
        if allowed is None and (empty := [i for i, hits in enumerate(rows) if not hits]):
            # A collection with live rows always has a nearest one, so an empty row is the
            # engine's transient, not an answer: ask once more for those queries alone.
            logger.warning("Milvus answered %d of %d queries with no rows: retrying", len(empty), q)
            for i, hits in zip(empty, self._query(data[empty], limit, None), strict=True):
                rows[i] = hits
        for row, hits in enumerate(rows):
            for col, hit in enumerate(hits[:limit]):
                labels[row, col] = int(hit["id"])
                distances[row, col] = 1.0 - float(hit["distance"])  # COSINE gives similarity
        return labels, distances

    def _query(self, data: np.ndarray, limit: int, allowed: frozenset[int] | None) -> list:
        return list(
            self._client.search(
                self.name,
                data=list(data),
                limit=limit,
                search_params=self._search_params,
                output_fields=["id"],
                filter="" if allowed is None else f"id in {sorted(allowed)}",
            )
        )

    def describe(self) -> dict[str, object]:
        return {"index_live": self.live_count, "collection": self.name}


class MilvusBackend:
    """Collections `<collection>_g<generation>` on the Milvus at `uri` (a path: milvus-lite)."""

    name = "milvus"

    def __init__(
        self,
        uri: str,
        *,
        collection: str = "shazam_frames",
        token: str = "",
        index_type: str = "HNSW",
        index_params: dict | None = None,
        search_params: dict | None = None,
    ) -> None:
        from pymilvus import MilvusClient  # imported here: the hnswlib path never needs it

        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,200}", collection):
            raise ValueError(f"invalid Milvus collection name {collection!r}")
        if "://" not in uri:
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
            try:
                import milvus_lite  # noqa: F401  (pymilvus starts it for a file URI)
            except ImportError as exc:
                raise StoreError(
                    f"SHAZAM_MILVUS_URI={uri} is a file: embedded Milvus needs "
                    "pip install 'shazam-anime[milvus]' (or give an http:// server URI)"
                ) from exc
        self.uri = uri
        self.collection = collection
        self.index_type = index_type
        self.index_params = dict(index_params or {})
        self.search_params = dict(search_params or {})
        self._client = MilvusClient(uri=uri, token=token)

    def _name(self, identity: CheckpointIdentity) -> str:
        return f"{self.collection}_g{identity.generation}"

    def _ours(self) -> list[str]:
        pattern = re.compile(rf"{re.escape(self.collection)}_g\d+")
        return [name for name in self._client.list_collections() if pattern.fullmatch(name)]

    def _create(self, name: str, dim: int) -> None:
        from pymilvus import DataType

        schema = self._client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        index = self._client.prepare_index_params()
        index.add_index(
            field_name="vector",
            index_type=self.index_type,
            metric_type="COSINE",
            params=self.index_params,
        )
        self._client.create_collection(
            name, schema=schema, index_params=index, consistency_level="Strong"
        )

    def _collection_dim(self, name: str) -> int | None:
        for field in self._client.describe_collection(name)["fields"]:
            if field["name"] == "vector":
                return int(field["params"]["dim"])
        return None

    def open(
        self,
        catalog: Catalog,
        directory: Path,
        identity: CheckpointIdentity,
        *,
        read_only: bool = False,
    ) -> tuple[MilvusVectors, bool]:
        name = self._name(identity)
        if read_only:
            if not self._client.has_collection(name):
                # Nothing was migrated here yet; a reader may not create it, so it reads the
                # catalog with an empty index (a writer's open fills the collection).
                logger.warning("Milvus has no collection %s yet: searching finds nothing", name)
                return HnswVectors.create(identity.index_dim, m=16, ef_construction=64, ef=64), True
            self._client.load_collection(name)
            return MilvusVectors(self._client, name, identity.index_dim, self.search_params), True
        for other in self._ours():
            if other != name:
                logger.warning("dropping Milvus collection %s of another model generation", other)
                self._client.drop_collection(other)
        if self._client.has_collection(name) and self._collection_dim(name) != identity.index_dim:
            logger.warning("Milvus collection %s has another dimension: rebuilding", name)
            self._client.drop_collection(name)
        if not self._client.has_collection(name):
            self._create(name, identity.index_dim)
        # A collection outlives the process that loaded it, but not its loaded state: after a
        # restart milvus-lite holds it released, and searches fail until it is loaded again.
        self._client.load_collection(name)
        vectors = MilvusVectors(self._client, name, identity.index_dim, self.search_params)
        live, catalog_ids = vectors.live_labels(), catalog.frame_ids()
        stale, missing = np.setdiff1d(live, catalog_ids), np.setdiff1d(catalog_ids, live)
        return vectors, repair(vectors, catalog, stale, missing, identity)

    def build(
        self,
        identity: CheckpointIdentity,
        batches: Iterable[tuple[object, np.ndarray]],
        count: int,
    ) -> MilvusVectors:
        name = self._name(identity)
        if self._client.has_collection(name):
            self._client.drop_collection(name)  # a half-built one from an interrupted re-embed
        self._create(name, identity.index_dim)
        vectors = MilvusVectors(self._client, name, identity.index_dim, self.search_params)
        for ids, data in batches:
            vectors.add(ids, identity.to_index(data))
        return vectors

    def save(self, vectors: object, directory: Path, identity: CheckpointIdentity) -> None:
        assert isinstance(vectors, MilvusVectors)
        try:
            self._client.flush(vectors.name)
        except Exception as exc:  # pymilvus raises its own MilvusException family
            raise OSError(f"Milvus flush of {vectors.name} failed: {exc}") from exc
        vectors.changes_since_save = 0

    def retire(self, vectors: object) -> None:
        assert isinstance(vectors, MilvusVectors)
        self._client.drop_collection(vectors.name)

    def close(self) -> None:
        self._client.close()
