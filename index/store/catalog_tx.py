"""The catalog's write transaction: the statements run between BEGIN IMMEDIATE and COMMIT."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence

import numpy as np

from index.store.catalog_rows import clean_title, pages, title_key
from index.store.colour_codec import pack_colour
from index.store.vector_codec import pack_vectors, unpack_vectors
from index.types import FrameRecord, SourceRecord, TitleMeta


class CatalogTx:
    """Statements run inside one write transaction (see `Catalog.transaction`)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def source_title_id(self, content_hash: str) -> int | None:
        row = self.conn.execute(
            "SELECT title_id FROM sources WHERE content_hash = ?", (content_hash,)
        ).fetchone()
        return None if row is None else int(row[0])

    def get_or_create_title(self, name: str) -> int:
        key = title_key(name)
        row = self.conn.execute("SELECT id FROM titles WHERE name_key = ?", (key,)).fetchone()
        if row is not None:
            return int(row[0])
        cursor = self.conn.execute(
            "INSERT INTO titles (name, name_key, created_at) VALUES (?, ?, ?)",
            (clean_title(name), key, time.time()),
        )
        return int(cursor.lastrowid)

    def insert_source(self, title_id: int, source: SourceRecord) -> int:
        cursor = self.conn.execute(
            "INSERT INTO sources (title_id, kind, uri, content_hash, episode, added_at,"
            " duration, media_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                title_id,
                source.kind,
                source.uri,
                source.content_hash,
                source.episode,
                time.time(),
                source.duration,
                source.media_path,
            ),
        )
        return int(cursor.lastrowid)

    def set_title_meta(self, title_id: int, meta: TitleMeta) -> bool:
        """Replace a title's metadata; False when there is no such title."""
        cursor = self.conn.execute(
            "UPDATE titles SET aliases = ?, anilist_id = ?, mal_id = ?, year = ? WHERE id = ?",
            (json.dumps(list(meta.aliases)), meta.anilist_id, meta.mal_id, meta.year, title_id),
        )
        return cursor.rowcount > 0

    def next_frame_id(self) -> int:
        """One above any frame id ever committed (sqlite_sequence survives deletions)."""
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'frames'").fetchone()
        top = self.conn.execute("SELECT MAX(id) FROM frames").fetchone()[0]
        return max(int(row[0]) if row else 0, int(top or 0)) + 1

    def insert_frames(
        self,
        ids: Sequence[int],
        source_id: int,
        frames: Sequence[FrameRecord],
        vectors: np.ndarray,
    ) -> None:
        rows = (
            (
                int(fid),
                source_id,
                frame.timestamp,
                frame.start,
                frame.end,
                frame.content_hash,
                blob,
                frame.thumbnail,
            )
            for fid, frame, blob in zip(ids, frames, pack_vectors(vectors), strict=True)
        )
        self.conn.executemany(
            "INSERT INTO frames (id, source_id, timestamp, span_start, span_end, content_hash,"
            " vector, thumbnail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        self.conn.executemany(
            "INSERT INTO frame_colours (frame_id, colour) VALUES (?, ?)",
            (
                (int(fid), pack_colour(frame.colour))
                for fid, frame in zip(ids, frames, strict=True)
                if frame.colour is not None
            ),
        )

    def title_frame_count(self, title_id: int) -> int:
        return int(
            self.conn.execute(
                "SELECT COUNT(*) FROM frames f JOIN sources s ON s.id = f.source_id"
                " WHERE s.title_id = ?",
                (title_id,),
            ).fetchone()[0]
        )

    def delete_title(self, title_id: int) -> list[int] | None:
        """Delete a title with its sources and frames; returns the frame ids, None if absent."""
        if self.conn.execute("SELECT 1 FROM titles WHERE id = ?", (title_id,)).fetchone() is None:
            return None
        ids = [
            int(r[0])
            for r in self.conn.execute(
                "SELECT f.id FROM frames f JOIN sources s ON s.id = f.source_id"
                " WHERE s.title_id = ?",
                (title_id,),
            )
        ]
        self.conn.execute("DELETE FROM titles WHERE id = ?", (title_id,))
        return ids

    def set_meta(self, values: dict[str, str]) -> None:
        self.conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            list(values.items()),
        )

    def rewrite_frames(self, rows: Sequence[tuple[int, bytes, bytes]]) -> None:
        """New (vector, preview) of frames by id: `index compact`."""
        self.conn.executemany(
            "UPDATE frames SET vector = ?, thumbnail = ? WHERE id = ?",
            [(vector, preview, int(frame_id)) for frame_id, vector, preview in rows],
        )

    def rewrite_colours(self, rows: Sequence[tuple[int, bytes]]) -> None:
        """Raw palettes of frames by id stored in zstd: `index compact`."""
        self.conn.executemany(
            "UPDATE frame_colours SET colour = ? WHERE frame_id = ?",
            [(pack_colour(raw), int(frame_id)) for frame_id, raw in rows],
        )

    def set_projection(self, model_name: str, basis: bytes | None) -> None:
        """Keep the index's projection for `model_name`; None drops it (a model switch)."""
        self.conn.execute("DELETE FROM projection")
        if basis is not None:
            self.conn.execute(
                "INSERT INTO projection (id, model_name, basis) VALUES (1, ?, ?)",
                (model_name, basis),
            )

    def stage_vectors(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        # Frames deleted meanwhile are skipped rather than failing the whole re-embed.
        self.conn.executemany(
            "INSERT OR REPLACE INTO reembed_vectors (frame_id, vector)"
            " SELECT ?, ? WHERE EXISTS (SELECT 1 FROM frames WHERE id = ?)",
            ((int(i), blob, int(i)) for i, blob in zip(ids, pack_vectors(vectors), strict=True)),
        )

    def clear_staged(self) -> None:
        self.conn.execute("DELETE FROM reembed_vectors")

    def unstaged_count(self) -> int:
        return int(
            self.conn.execute(
                "SELECT COUNT(*) FROM frames f"
                " WHERE NOT EXISTS (SELECT 1 FROM reembed_vectors r WHERE r.frame_id = f.id)"
            ).fetchone()[0]
        )

    def iter_staged(self, batch: int, dim: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        def fetch(last: int, size: int) -> list[tuple]:
            return self.conn.execute(
                "SELECT frame_id, vector FROM reembed_vectors WHERE frame_id > ?"
                " ORDER BY frame_id LIMIT ?",
                (last, size),
            ).fetchall()

        for rows in pages(fetch, batch):
            yield unpack_vectors(rows, dim)

    def apply_staged(self) -> None:
        self.conn.execute(
            "UPDATE frames SET vector ="
            " (SELECT r.vector FROM reembed_vectors r WHERE r.frame_id = frames.id)"
        )
        self.conn.execute("DELETE FROM reembed_vectors")
