"""`index compact`: an older catalog's frames rewritten in today's formats, then its file.

A catalog from before schema 4 holds float32 vectors (5 KB a frame at 1280 dims) and 384 px
JPEG previews (~12.6 KB) in 4 KB pages; one written before zstd holds deflated int8 vectors. All
stay readable, so this is about disk and speed, not about working: vectors become int8 in zstd
(`vector_codec`; the same codes, so the index stays valid), previews are re-encoded by the
caller (the ingest mapper's WebP), palettes stored raw go into zstd (`colour_codec`), and the
file is rewritten at the new page size (docs/compact.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from index.store.vector_codec import pack_vectors, unpack_vectors

if TYPE_CHECKING:
    from index.store.catalog import Catalog
    from index.store.state import IndexState

logger = logging.getLogger(__name__)

BATCH = 500  # frames rewritten per transaction


class Compaction:
    """Mixed into `FrameStore`, which provides the catalog, the state and the writer check."""

    _catalog: Catalog
    _state: IndexState
    _check_writable: Callable[[], None]

    def compact(
        self,
        reencode: Callable[[bytes], bytes],
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Rewrite float32 and deflated vectors as zstd int8, JPEG previews with `reencode` and
        raw palettes in zstd, `BATCH` frames a transaction (an interruption leaves a catalog
        that works and compacts further when run again), then vacuum the file. Returns how many
        frames' vectors or previews changed."""
        self._check_writable()
        dim = self._state.dim
        changed = 0
        for rows in self._catalog.frames_to_compact(BATCH):
            _, vectors = unpack_vectors([(frame_id, vector) for frame_id, vector, _ in rows], dim)
            updates = [
                (frame_id, packed, reencode(preview) if _is_jpeg(preview) else preview)
                for (frame_id, _, preview), packed in zip(rows, pack_vectors(vectors), strict=True)
            ]
            with self._catalog.transaction() as tx:
                tx.rewrite_frames(updates)
            changed += len(updates)
            if progress is not None:
                progress(changed)
        palettes = 0
        for rows in self._catalog.colours_to_compact(BATCH):
            with self._catalog.transaction() as tx:
                tx.rewrite_colours(rows)
            palettes += len(rows)
        self._catalog.vacuum()
        logger.info("compacted %d frames, %d palettes; rewrote the file", changed, palettes)
        return changed


def _is_jpeg(data: bytes) -> bool:
    return data[:2] == b"\xff\xd8"
