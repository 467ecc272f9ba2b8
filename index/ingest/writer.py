"""Writer: embedded sources into the store, one transaction each, now or all at the end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from index.types import AddResult, FrameRecord, SourceRecord

if TYPE_CHECKING:
    from index.store.frame_store import FrameStore


@dataclass(frozen=True, slots=True)
class EmbeddedSource:
    """A source read and embedded, not yet written."""

    source: SourceRecord
    records: list[FrameRecord]
    vectors: np.ndarray


class StoreWriter:
    """Writes each source as soon as it is embedded, or (`atomic`) holds them all until `flush`.

    Held sources cost a thumbnail and a vector per frame in memory; `discard` drops them when the
    add failed, so an all-or-nothing add leaves the catalog exactly as it was.
    """

    def __init__(self, store: FrameStore, *, atomic: bool) -> None:
        self.store = store
        self.atomic = atomic
        self._held: list[EmbeddedSource] = []

    def known(self, content_hash: str) -> bool:
        return self.store.has_source(content_hash)

    def __call__(self, embedded: EmbeddedSource) -> list[AddResult]:
        """Write (or hold) one source; returns what was written now."""
        if self.atomic:
            self._held.append(embedded)
            return []
        return [self._add(embedded)]

    def flush(self) -> list[AddResult]:
        held, self._held = self._held, []
        return [self._add(embedded) for embedded in held]

    def discard(self) -> None:
        self._held = []

    def _add(self, embedded: EmbeddedSource) -> AddResult:
        # One transaction per source: a failure before it leaves nothing behind for this file.
        return self.store.add(embedded.source, embedded.records, embedded.vectors)
