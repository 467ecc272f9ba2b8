"""Opening a data directory: the writer lock, the catalog, the model claim and the vector index,
each released again if a later step fails."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from index.errors import ModelMismatchError, StoreError
from index.store.backend import VectorBackend
from index.store.catalog import CATALOG_FILE, Catalog
from index.store.checkpoint import CheckpointIdentity
from index.store.projection import Projection
from index.store.state import IndexState
from index.store.validate import model_name_text
from index.store.writer_lock import take_writer_lock

log = logging.getLogger(__name__)

# A projection, or how to make one: called only when a catalog has none yet.
ProjectionSource = Projection | Callable[[], Projection | None] | None


@dataclass(frozen=True, slots=True)
class OpenedParts:
    directory: Path
    catalog: Catalog
    state: IndexState
    lock: FileLock | None  # None: opened read-only
    loaded_clean: bool  # the index needed no repair

    def release(self, backend: VectorBackend | None = None) -> None:
        self.catalog.close()
        if backend is not None:
            backend.close()
        if self.lock is not None:
            self.lock.release()


def open_parts(
    data_dir: str | Path,
    *,
    dim: int,
    model_name: str,
    backend: VectorBackend,
    read_only: bool,
    projection: ProjectionSource = None,
) -> OpenedParts:
    """Lock (unless read-only), open the catalog, claim it for `model_name`, open the index."""
    model_name = model_name_text(model_name)
    directory = Path(data_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        lock = None if read_only else take_writer_lock(directory)
    except OSError as exc:
        raise StoreError(f"cannot open the catalog in {directory}: {exc}") from exc
    try:
        catalog = Catalog(directory / CATALOG_FILE)
    except (OSError, sqlite3.Error) as exc:
        if lock is not None:
            lock.release()
        raise StoreError(f"cannot open the catalog in {directory}: {exc}") from exc
    try:
        generation = claim_model(catalog, directory, model_name, dim)
        chosen = claim_projection(catalog, model_name, dim, projection, read_only)
        identity = CheckpointIdentity(dim, model_name, generation, chosen)
        vectors, loaded_clean = backend.open(catalog, directory, identity, read_only=read_only)
    except BaseException:
        catalog.close()
        backend.close()
        if lock is not None:
            lock.release()
        raise
    state = IndexState(vectors, model_name, dim, generation, chosen)
    return OpenedParts(directory, catalog, state, lock, loaded_clean)


def claim_model(catalog: Catalog, directory: Path, model_name: str, dim: int) -> int:
    """The catalog's model generation; a new catalog is claimed for `model_name`."""
    meta = catalog.meta()
    if "model_name" not in meta:
        with catalog.transaction() as tx:
            tx.set_meta({"model_name": model_name, "dim": str(dim), "generation": "0"})
        return 0
    if meta["model_name"] != model_name or int(meta["dim"]) != dim:
        raise ModelMismatchError(
            str(directory), meta["model_name"], int(meta["dim"]), model_name, dim
        )
    return int(meta.get("generation", "0"))


def claim_projection(
    catalog: Catalog, model_name: str, dim: int, offered: ProjectionSource, read_only: bool
) -> Projection | None:
    """The catalog's projection for its model; a catalog without one takes `offered` (made
    only then), which a writer keeps: the index is then rebuilt projected from the catalog."""
    stored = catalog.projection()
    if stored is not None and stored[0] == model_name:
        kept = Projection.from_bytes(stored[1])
        if kept.in_dim == dim:
            return kept
    if read_only or offered is None:
        return None
    chosen = offered() if callable(offered) else offered
    if chosen is None or chosen.in_dim != dim or chosen.out_dim >= dim:
        return None
    with catalog.transaction() as tx:
        tx.set_projection(model_name, chosen.to_bytes())
    log.info("the vector index holds %d of %d dims from now on", chosen.out_dim, dim)
    return chosen


def stored_model(data_dir: str | Path) -> tuple[str, int] | None:
    """(model_name, dim) the store in `data_dir` was built with; None for a new dir."""
    meta = Catalog.read_meta_at(Path(data_dir) / CATALOG_FILE)
    if not meta or "model_name" not in meta:
        return None
    return meta["model_name"], int(meta["dim"])
