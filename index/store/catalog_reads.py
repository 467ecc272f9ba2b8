"""The catalog lookups `FrameStore` offers as they are: titles, sources, thumbnails, metadata,
training reads and the catalog's calibration. Kept apart from the store's vector logic so
`frame_store.py` reads as the add/search/remove/persist protocol it is."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from index.errors import InvalidInputError, StoreError
from index.store.validate import int_id, positive_int, title_meta
from index.types import LabelledFrame, SourceInfo, TitleInfo, TitleMeta

if TYPE_CHECKING:
    from index.store.catalog import Catalog
    from index.store.state import IndexState

logger = logging.getLogger(__name__)
CALIBRATION_KEY = "calibration"


class CatalogReads:
    """Mixed into `FrameStore`, which provides the catalog, the state and the open check."""

    _catalog: Catalog
    _state: IndexState

    _check_open: Callable[[], None]

    def has_source(self, content_hash: str) -> bool:
        self._check_open()
        return self._catalog.has_source(content_hash)

    def titles(self) -> list[TitleInfo]:
        self._check_open()
        return self._catalog.titles()

    def title(self, title_id: int) -> TitleInfo | None:
        self._check_open()
        return self._catalog.title(int_id("title_id", title_id))

    def set_title_meta(self, title_id: int, meta: TitleMeta) -> TitleInfo | None:
        """Replace a title's aliases, AniList/MyAnimeList ids and year; None if no such title."""
        self._check_open()
        title_id = int_id("title_id", title_id)
        try:
            with self._catalog.transaction() as tx:
                found = tx.set_title_meta(title_id, title_meta(meta))
        except sqlite3.Error as exc:
            raise StoreError(f"catalog write failed, nothing was changed: {exc}") from exc
        return self._catalog.title(title_id) if found else None

    def title_meta(self, title_ids: Iterable[int]) -> dict[int, TitleMeta]:
        """Metadata of the titles an answer names, by id (absent ids are left out)."""
        self._check_open()
        return self._catalog.title_meta(title_ids)

    def sources(self, source_ids: Iterable[int]) -> dict[int, SourceInfo]:
        """Stored sources by id: file name, episode, duration and kept media path."""
        self._check_open()
        return self._catalog.sources(source_ids)

    def media_paths(self, title_id: int | None = None) -> set[str]:
        """Where the videos of one title (or all) were recorded to be read again: relative to
        the data directory inside it, else absolute."""
        self._check_open()
        return self._catalog.media_paths(None if title_id is None else int_id("title_id", title_id))

    def frame_source(self, frame_id: int) -> tuple[float | None, SourceInfo] | None:
        """A frame's timestamp and the source it was read from (for its preview clip)."""
        self._check_open()
        return self._catalog.frame_source(int_id("frame_id", frame_id))

    def find_title(self, name: str) -> TitleInfo | None:
        """Case-insensitive lookup by name."""
        self._check_open()
        if not isinstance(name, str):
            raise InvalidInputError("title name must be a string")
        return self._catalog.find_title(name)

    def thumbnail(self, frame_id: int) -> bytes | None:
        self._check_open()
        return self._catalog.thumbnail(int_id("frame_id", frame_id))

    def colours(self, frame_ids: Iterable[int]) -> dict[int, bytes]:
        """The frames' colour histograms stored at ingest (`index.query.colour`), by id; frames
        stored before schema 5, or no longer catalogued, are absent."""
        self._check_open()
        return self._catalog.colours(int_id("frame_id", f) for f in frame_ids)

    def iter_labelled_frames(self, batch: int = 256) -> Iterator[list[LabelledFrame]]:
        """Every frame with its title, source, episode, timestamp and thumbnail, in id order,
        `batch` at a time: training data straight from the catalog.

        Read-only, through the reader connections: concurrent adds and searches go on. Each batch
        is a separate read, so frames added or removed while iterating may or may not appear.
        """
        self._check_open()
        return self._catalog.iter_labelled(positive_int("batch", batch))

    def iter_title_vectors(
        self, batch: int = 4096
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """(title ids, source ids, vectors, frame ids) of every frame, `batch` at a time, each
        batch its own short read: what `index.query.titlehead` fits its per-title model on."""
        self._check_open()
        return self._catalog.iter_title_vectors(positive_int("batch", batch), self._state.dim)

    def calibration(self) -> dict[str, object] | None:
        """The decision thresholds calibrated on this catalog for its current model, if any
        (`index.query.calibrate`); a calibration of another model no longer applies."""
        self._check_open()
        text = self._catalog.meta().get(CALIBRATION_KEY)
        if text is None:
            return None
        try:
            stored = json.loads(text)
        except json.JSONDecodeError:
            logger.warning("ignoring an unreadable calibration in the catalog")
            return None
        if not isinstance(stored, dict) or stored.get("model_name") != self._state.model_name:
            return None
        return stored

    def set_calibration(self, calibration: dict[str, object]) -> None:
        """Store thresholds calibrated for the current model (replacing earlier ones)."""
        self._check_open()
        stored = {**calibration, "model_name": self._state.model_name}
        try:
            with self._catalog.transaction() as tx:
                tx.set_meta({CALIBRATION_KEY: json.dumps(stored, sort_keys=True)})
        except sqlite3.Error as exc:
            raise StoreError(f"catalog write failed, calibration not saved: {exc}") from exc

    def iter_frames(self, batch: int = 256) -> Iterator[tuple[list[int], list[bytes]]]:
        """(frame ids, JPEG thumbnails) in id order, `batch` at a time, for `index reembed`."""
        self._check_open()
        return self._catalog.iter_thumbnails(positive_int("batch", batch))
