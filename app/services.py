"""Embedder, store, identifier and ingestor, built once and shared by the server and the CLI."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from app.config import Settings
from index.ingest.ingestor import Ingestor
from index.query.calibrate import THRESHOLD_KEYS, stored_thresholds, usable_thresholds
from index.query.identify import Identifier
from index.query.params import IdentifyParams
from index.query.titlehead import TitleHead
from index.store.backend import HnswBackend, VectorBackend
from index.store.frame_store import FrameStore
from index.store.opening import ProjectionSource
from index.store.projection import Projection
from model.base import Embedder
from training.index_projection import reference_projection

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a request or a command needs; the owner calls `close()` once at the end."""

    settings: Settings
    embedder: Embedder
    store: FrameStore
    identifier: Identifier
    ingestor: Ingestor
    # Where each decision threshold in use came from: settings, catalog, model or default.
    threshold_sources: dict[str, str] = field(default_factory=dict)

    def close(self) -> None:
        """Checkpoint the vector index and release the catalog (after a running head refit)."""
        if self.identifier.title_head is not None:
            self.identifier.title_head.wait()
        self.store.close()


def resolve_thresholds(
    settings: Settings, embedder: Embedder, store: FrameStore
) -> tuple[dict[str, float], dict[str, str]]:
    """Each decision threshold and where it came from, the first that has it winning: a setting,
    the catalog's calibration (`shazam-anime calibrate`), the model's own, the default."""
    defaults = IdentifyParams()
    layers = [
        ("settings", {key: getattr(settings, key) for key in THRESHOLD_KEYS}),
        ("catalog", stored_thresholds(store.calibration())),
        ("model", usable_thresholds(embedder.thresholds, embedder.calibration)),
        ("default", {key: getattr(defaults, key) for key in THRESHOLD_KEYS}),
    ]
    values: dict[str, float] = {}
    sources: dict[str, str] = {}
    for key in THRESHOLD_KEYS:
        origin, value = next((o, layer[key]) for o, layer in layers if layer.get(key) is not None)
        values[key], sources[key] = float(value), origin
    return values, sources


def build_services(settings: Settings, embedder: Embedder, store: FrameStore) -> Services:
    """Wire identifier and ingestor around an embedder and an open store, from settings."""
    thresholds, sources = resolve_thresholds(settings, embedder, store)
    params = IdentifyParams(search_k=settings.search_k, **thresholds)
    return Services(
        settings=settings,
        embedder=embedder,
        store=store,
        identifier=Identifier(embedder, store, params, TitleHead(store)),
        ingestor=Ingestor(
            embedder, store, batch_size=settings.embed_batch_size, fps=settings.sample_fps
        ),
        threshold_sources=sources,
    )


def open_store(settings: Settings, embedder: Embedder, *, read_only: bool = False) -> FrameStore:
    """Open (or create) the catalog in `settings.data_dir` for this embedder's vectors; a
    catalog without an index projection gets this model's (fitted once, then cached)."""

    def projection() -> Projection | None:
        return reference_projection(embedder, settings.resolved_cache_dir, settings.index_dims)

    return open_store_for(
        settings, embedder.name, embedder.dim, read_only=read_only, projection=projection
    )


def open_store_for(
    settings: Settings,
    model_name: str,
    dim: int,
    *,
    read_only: bool = False,
    projection: ProjectionSource = None,
) -> FrameStore:
    """Open the catalog for vectors of `model_name`; the CLI opens one without its embedder.

    Writers hold the data dir's lock (one per catalog); `read_only` neither locks nor writes.
    """
    return FrameStore.open(
        settings.data_dir,
        dim=dim,
        model_name=model_name,
        read_only=read_only,
        backend=vector_backend(settings),
        projection=projection,
    )


def vector_backend(settings: Settings) -> VectorBackend:
    """The vector engine the settings name (the catalog stays SQLite in DATA_DIR either way)."""
    if settings.vector_backend == "hnswlib":
        return HnswBackend(
            m=settings.hnsw_m,
            ef_construction=settings.hnsw_ef_construction,
            ef=settings.hnsw_ef,
            num_threads=None,
        )
    from index.store.milvus import MilvusBackend

    token = settings.milvus_token.get_secret_value() if settings.milvus_token else ""
    return MilvusBackend(
        settings.milvus_uri or str(settings.data_dir / "milvus.db"),
        collection=settings.milvus_collection,
        token=token,
        index_type=settings.milvus_index_type,
        index_params=settings.milvus_index_params,
        search_params=settings.milvus_search_params,
    )


def open_services(settings: Settings, *, read_only: bool = False) -> Services:
    """Load the model named by `settings.model` and open the catalog it indexes."""
    from model.registry import load_embedder  # converts with TensorFlow only if not cached

    embedder = load_embedder(
        settings.model, settings.resolved_cache_dir, threads=settings.inference_threads
    )
    log.info("loaded embedder %s (dim %d)", embedder.name, embedder.dim)
    return build_services(settings, embedder, open_store(settings, embedder, read_only=read_only))
