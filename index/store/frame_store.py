"""FrameStore: the SQLite catalog plus the hnswlib index, kept consistent across crashes.

The catalog is the source of truth; `index.bin`/`index.json` is only a checkpoint, reconciled
with the catalog at every open (missing labels added from the stored vectors, stale ones marked
deleted, an unusable file rebuilt). So a crash at any point leaves a store that opens consistent.

Checkpoint policy: a save rewrites the whole index file (~0.5 GB at 100k x 1280), so it is not
done per add. It is done by `save()`/`close()`, after a repair at open, and automatically once the
unsaved changes reach max(`checkpoint_min_changes`, 10% of the index).

Pieces live beside it in `index.store`: input checks in `validate`, the repair at open in
`reconcile`, the model switch of a re-embed in `reembed`, the checkpoint files in `checkpoint`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from filelock import FileLock

from index.errors import StoreClosedError, StoreError
from index.store.backend import HnswBackend, VectorBackend
from index.store.catalog import CATALOG_FILE, Catalog
from index.store.catalog_reads import CatalogReads
from index.store.checkpoint import INDEX_FILE
from index.store.compaction import Compaction
from index.store.opening import ProjectionSource, open_parts, stored_model
from index.store.projection import search_rescored
from index.store.reembed import Reembedding
from index.store.state import IndexState
from index.store.validate import (
    first_of_each_hash,
    frame_records,
    int_id,
    positive_int,
    source_record,
    unit_vectors,
)
from index.store.vector_codec import quantized
from index.types import AddResult, FrameRecord, Hit, SourceRecord, StoreStats

logger = logging.getLogger(__name__)


# -- the store ------------------------------------------------------------------------------------


class FrameStore(CatalogReads, Reembedding, Compaction):
    """Catalog + vector index behind one API; thread-safe (one writer at a time, many readers)."""

    def __init__(
        self,
        data_dir: Path,
        catalog: Catalog,
        state: IndexState,
        *,
        backend: VectorBackend,
        checkpoint_min_changes: int,
        writer_lock: FileLock | None,
    ) -> None:
        self.data_dir = data_dir
        self._writer_lock = writer_lock  # None: opened read-only
        self._catalog = catalog
        self._state = state
        self._backend = backend
        self._checkpoint_min_changes = checkpoint_min_changes
        self._save_mutex = threading.Lock()
        self._saved_state: IndexState | None = None
        self._closed = False
        self._revision = 0

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        data_dir: str | Path,
        *,
        dim: int,
        model_name: str,
        m: int = 16,
        ef_construction: int = 200,
        ef: int = 128,
        num_threads: int | None = None,
        checkpoint_min_changes: int = 2000,
        read_only: bool = False,
        backend: VectorBackend | None = None,
        projection: ProjectionSource = None,
    ) -> FrameStore:
        """Open (or create) the store in `data_dir` for vectors of `model_name` with `dim`.

        `projection` (or a function making one) is what the vector index holds of each vector
        (`index.store.projection`): a catalog keeps the first one it is given, for its model.

        A writer holds the data dir's OS lock until `close()`; a second writer (another server,
        a CLI add beside a server) gets StoreLockedError. `read_only` takes no lock and never
        writes the index file, so it may look at a catalog a running server holds.
        """
        dim = positive_int("dim", dim)
        m = positive_int("m", m)
        ef_construction = positive_int("ef_construction", ef_construction)
        ef = positive_int("ef", ef)
        if num_threads is not None:
            num_threads = positive_int("num_threads", num_threads)
        if backend is None:
            backend = default_backend(m, ef_construction, ef, num_threads)
        opened = open_parts(
            data_dir,
            dim=dim,
            model_name=model_name,
            backend=backend,
            read_only=read_only,
            projection=projection,
        )
        try:
            store = cls(
                opened.directory,
                opened.catalog,
                opened.state,
                backend=backend,
                checkpoint_min_changes=positive_int(
                    "checkpoint_min_changes", checkpoint_min_changes
                ),
                writer_lock=opened.lock,
            )
        except BaseException:
            opened.release(backend)
            raise
        if opened.loaded_clean or read_only:
            store._saved_state = store._state
        else:
            try:
                store.save()
            except StoreError:
                # The in-memory index is right; a read-only dir only costs a repair next time.
                logger.exception("could not checkpoint the repaired index")
        return store

    @staticmethod
    def stored_model(data_dir: str | Path) -> tuple[str, int] | None:
        """(model_name, dim) the store in `data_dir` was built with; None for a new dir.

        Lets `index reembed` open an existing store with its own model before switching it.
        """
        return stored_model(data_dir)

    # -- properties -----------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        return self._state.dim

    @property
    def model_name(self) -> str:
        return self._state.model_name

    @property
    def revision(self) -> int:
        """Counts this process's changes (adds, removals, re-embeds): models fitted over the
        catalog's vectors compare it to know whether they are current."""
        return self._revision

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError("the frame store is closed")

    def _check_writable(self) -> None:
        self._check_open()
        if self._writer_lock is None:
            raise StoreError("the catalog was opened read-only")

    # -- writes ---------------------------------------------------------------------------------

    def add(
        self, source: SourceRecord, frames: Sequence[FrameRecord], vectors: np.ndarray
    ) -> AddResult:
        """Add one source and its frames in one transaction; a known content_hash is a no-op.

        Frames repeating a content_hash within the source are skipped. On any failure the
        catalog is exactly as before and the labels added to hnswlib are marked deleted.
        """
        self._check_writable()
        source = self._portable_media(source_record(source))
        checked = frame_records(frames)
        state = self._state
        data = unit_vectors(vectors, len(checked), state.dim, "vectors")
        keep = first_of_each_hash(checked)
        kept_frames = [checked[i] for i in keep]
        data = quantized(data[keep])
        labels: np.ndarray | None = None
        try:
            with self._catalog.transaction() as tx:
                if self._state is not state:
                    raise StoreError("the store switched models during the add; embed again")
                existing_title = tx.source_title_id(source.content_hash)
                if existing_title is not None:
                    return AddResult(existing_title, None, 0, tx.title_frame_count(existing_title))
                title_id = tx.get_or_create_title(source.title)
                source_id = tx.insert_source(title_id, source)
                first = max(tx.next_frame_id(), state.vectors.max_label + 1)
                labels = np.arange(first, first + len(kept_frames), dtype=np.int64)
                tx.insert_frames(labels, source_id, kept_frames, data)
                # The write lock is taken inside, only around the hnswlib mutation.
                state.vectors.add(labels, state.identity.to_index(data))
                total = tx.title_frame_count(title_id)
        except BaseException as exc:
            if labels is not None:
                state.vectors.remove(labels)
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"catalog write failed, nothing was added: {exc}") from exc
            raise
        self._revision += 1
        self._maybe_checkpoint()
        return AddResult(
            title_id=title_id, source_id=source_id, frames_added=len(labels), frames_total=total
        )

    def _portable_media(self, source: SourceRecord) -> SourceRecord:
        """A kept video inside the data directory is recorded relative to it, so the directory
        can move (a restored backup, another mount point) without losing its clips."""
        if source.media_path is None:
            return source
        path = Path(source.media_path)
        root = self.data_dir.resolve()
        if path.is_absolute() and path.resolve().is_relative_to(root):
            return replace(source, media_path=str(path.resolve().relative_to(root)))
        return source

    def remove_title(self, title_id: int) -> bool:
        """Delete a title, its sources and frames; its frames leave `search` before this returns."""
        self._check_writable()
        try:
            with self._catalog.transaction() as tx:
                frame_ids = tx.delete_title(int_id("title_id", title_id))
        except sqlite3.Error as exc:
            raise StoreError(f"catalog write failed, nothing was removed: {exc}") from exc
        if frame_ids is None:
            return False
        # Between the commit and this call, hits on these labels are already dropped by search,
        # which keeps only labels present in the catalog.
        self._state.vectors.remove(frame_ids)
        self._revision += 1
        self._maybe_checkpoint()
        return True

    # -- reads ----------------------------------------------------------------------------------

    def search(
        self, vectors: np.ndarray, k: int, *, title_id: int | None = None
    ) -> list[list[Hit]]:
        """Per query row, up to k nearest frames best first; similarity = 1 - cosine distance.

        `title_id` searches only that title's frames (an unknown title finds nothing).
        """
        self._check_open()
        k = positive_int("k", k)
        state = self._state
        queries = unit_vectors(vectors, None, state.dim, "query vectors")
        if queries.shape[0] == 0:
            return []
        allowed = None
        if title_id is not None:
            ids = self._catalog.title_frame_ids(int_id("title_id", title_id))
            allowed = frozenset(ids.tolist())
        if state.projection is None:
            labels, distances = state.vectors.search(queries, k, allowed=allowed)
        else:
            labels, distances = search_rescored(state, self._catalog, queries, k, allowed)
        rows = self._catalog.hit_rows(labels[labels >= 0].tolist())
        results: list[list[Hit]] = []
        for row_labels, row_distances in zip(labels, distances, strict=True):
            hits = []
            for label, distance in zip(row_labels.tolist(), row_distances.tolist(), strict=True):
                row = rows.get(label)
                if row is None:  # not committed yet, or removed a moment ago
                    continue
                hits.append(
                    Hit(
                        frame_id=row.frame_id,
                        title_id=row.title_id,
                        title=row.title,
                        source_id=row.source_id,
                        episode=row.episode,
                        timestamp=row.timestamp,
                        similarity=min(1.0, max(-1.0, 1.0 - distance)),
                        start=row.start,
                        end=row.end,
                    )
                )
            results.append(hits)
        return results

    def stats(self) -> StoreStats:
        self._check_open()
        state = self._state
        titles, frames = self._catalog.counts()
        vectors = state.vectors
        return StoreStats(
            titles=titles,
            frames=frames,
            dim=state.dim,
            model_name=state.model_name,
            extra={
                **vectors.describe(),
                "index_dim": state.identity.index_dim,
                "vector_backend": self._backend.name,
                "unsaved_changes": vectors.changes_since_save,
                "catalog_bytes": _file_bytes(self.data_dir, CATALOG_FILE, f"{CATALOG_FILE}-wal"),
                "index_bytes": _file_bytes(self.data_dir, INDEX_FILE),
                "data_dir": str(self.data_dir),
            },
        )

    # -- persistence ----------------------------------------------------------------------------

    def save(self) -> None:
        """Checkpoint the hnswlib index atomically (skipped when nothing changed or read-only)."""
        self._check_open()
        if self._writer_lock is None:
            return
        with self._save_mutex:
            state = self._state
            if self._saved_state is state and state.vectors.changes_since_save == 0:
                return
            try:
                self._backend.save(state.vectors, self.data_dir, state.identity)
            except OSError as exc:
                raise StoreError(
                    f"cannot write the index checkpoint in {self.data_dir}: {exc}"
                ) from exc
            self._saved_state = state

    def _maybe_checkpoint(self) -> None:
        vectors = self._state.vectors
        threshold = max(self._checkpoint_min_changes, vectors.live_count // 10)
        if vectors.changes_since_save < threshold:
            return
        try:
            self.save()
        except StoreError:
            # The catalog is committed; the next open reconciles, so a failed checkpoint is
            # worth a log line, not a failed add.
            logger.exception("index checkpoint failed; it will be repaired at the next open")

    def close(self) -> None:
        """Checkpoint if needed and close; further calls raise StoreClosedError."""
        if self._closed:
            return
        try:
            self.save()
        finally:
            self._closed = True
            self._catalog.close()
            self._backend.close()
            if self._writer_lock is not None:
                self._writer_lock.release()

    def __enter__(self) -> FrameStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def default_backend(
    m: int, ef_construction: int, ef: int, num_threads: int | None
) -> VectorBackend:
    """The embedded engine, used when `open` is given no backend."""
    return HnswBackend(m=m, ef_construction=ef_construction, ef=ef, num_threads=num_threads)


def _file_bytes(directory: Path, *names: str) -> int:
    return sum((directory / n).stat().st_size for n in names if (directory / n).exists())
