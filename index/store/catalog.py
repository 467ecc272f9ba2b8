"""SQLite catalog of titles, sources and frames (with thumbnail and vector): the source of truth."""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.errors import StoreClosedError
from index.store import schema
from index.types import (
    FrameRecord,
    LabelledFrame,
    SourceInfo,
    SourceRecord,
    TitleInfo,
    TitleMeta,
)

CATALOG_FILE = "catalog.sqlite3"
# Stay well under SQLite's host-parameter limit in `IN (...)` lists.
_IN_CHUNK = 900


def title_key(name: str) -> str:
    """Case- and width-insensitive key: 'Frieren', 'FRIEREN ' and 'ｆｒｉｅｒｅｎ' are one title."""
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


def clean_title(name: str) -> str:
    """The name as stored and shown: NFKC (full-width and compatibility forms folded), runs of
    white space made one space. `validate.title_name` has already refused control characters."""
    return " ".join(unicodedata.normalize("NFKC", name).split())


@dataclass(frozen=True, slots=True)
class HitRow:
    frame_id: int
    source_id: int
    timestamp: float | None
    title_id: int
    title: str
    episode: str | None
    until: float | None  # the next kept frame's timestamp, else the source's duration


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE) so nothing opens one
    # behind our back; check_same_thread=False because pooled connections move between threads
    # (each is used by one thread at a time).
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 30000")
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    else:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
    return conn


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield [int(x) for x in ids[start : start + _IN_CHUNK]]


def _title_info(row: tuple) -> TitleInfo:
    meta = _title_meta(row[5:])
    return TitleInfo(
        id=row[0],
        name=row[1],
        frames=row[2],
        episodes=row[3],
        sources=row[4],
        aliases=meta.aliases,
        anilist_id=meta.anilist_id,
        mal_id=meta.mal_id,
        year=meta.year,
    )


def _title_meta(row: Sequence) -> TitleMeta:
    aliases, anilist_id, mal_id, year = row
    return TitleMeta(tuple(json.loads(aliases or "[]")), anilist_id, mal_id, year)


def _source_info(row: tuple) -> SourceInfo:
    return SourceInfo(
        id=row[0],
        title_id=row[1],
        kind=row[2],
        uri=row[3],
        episode=row[4],
        duration=row[5],
        media_path=row[6],
    )


_META_COLUMNS = "t.aliases, t.anilist_id, t.mal_id, t.year"
_TITLE_INFO_SQL = f"""
SELECT t.id, t.name,
       (SELECT COUNT(*) FROM frames f JOIN sources s ON s.id = f.source_id
         WHERE s.title_id = t.id),
       (SELECT COUNT(DISTINCT episode) FROM sources WHERE title_id = t.id),
       (SELECT COUNT(*) FROM sources WHERE title_id = t.id),
       {_META_COLUMNS}
FROM titles t
"""
_SOURCE_COLUMNS = "id, title_id, kind, uri, episode, duration, media_path"


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
                frame.content_hash,
                vec.tobytes(),
                frame.thumbnail,
            )
            for fid, frame, vec in zip(ids, frames, vectors.astype("<f4"), strict=True)
        )
        self.conn.executemany(
            "INSERT INTO frames (id, source_id, timestamp, content_hash, vector, thumbnail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
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

    def stage_vectors(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        # Frames deleted meanwhile are skipped rather than failing the whole re-embed.
        self.conn.executemany(
            "INSERT OR REPLACE INTO reembed_vectors (frame_id, vector)"
            " SELECT ?, ? WHERE EXISTS (SELECT 1 FROM frames WHERE id = ?)",
            (
                (int(i), v.tobytes(), int(i))
                for i, v in zip(ids, vectors.astype("<f4"), strict=True)
            ),
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

        for rows in _pages(fetch, batch):
            yield _unpack_vectors(rows, dim)

    def apply_staged(self) -> None:
        self.conn.execute(
            "UPDATE frames SET vector ="
            " (SELECT r.vector FROM reembed_vectors r WHERE r.frame_id = frames.id)"
        )
        self.conn.execute("DELETE FROM reembed_vectors")


def _pages(fetch: Callable[[int, int], list[tuple]], batch: int) -> Iterator[list[tuple]]:
    """Keyset pagination on the rows' first column (an id): no OFFSET scans, no long reads."""
    last = -1
    while rows := fetch(last, batch):
        yield rows
        last = int(rows[-1][0])


def _unpack_vectors(rows: Sequence[tuple[int, bytes]], dim: int) -> tuple[np.ndarray, np.ndarray]:
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    blob = b"".join(r[1] for r in rows)
    vectors = np.frombuffer(blob, dtype="<f4").reshape(len(rows), dim).astype(np.float32)
    return ids, vectors


class Catalog:
    """One writer connection behind a mutex (one writer at a time) and a pool of reader
    connections; in WAL mode readers see the last commit and never wait for a long write."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = _connect(path, readonly=False)
        self._write_mutex = threading.Lock()
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all_readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        with self._write_mutex:
            try:
                schema.prepare(self._writer, path)
            except BaseException:
                self._writer.close()
                raise

    # -- connections ----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError("the frame store is closed")

    @contextmanager
    def transaction(self) -> Iterator[CatalogTx]:
        """One write transaction: commits on success, rolls back on any exception."""
        self._check_open()
        with self._write_mutex:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield CatalogTx(self._writer)
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        self._check_open()
        try:
            conn = self._readers.get_nowait()
        except queue.Empty:
            conn = _connect(self.path, readonly=True)
            with self._readers_lock:
                self._all_readers.append(conn)
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if self._closed:
                conn.close()
            else:
                self._readers.put(conn)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._write_mutex:
            self._writer.close()
        with self._readers_lock:
            for conn in self._all_readers:
                conn.close()
            self._all_readers.clear()

    # -- meta -----------------------------------------------------------------------------------

    @staticmethod
    def _read_meta(conn: sqlite3.Connection) -> dict[str, str]:
        return {k: v for k, v in conn.execute("SELECT key, value FROM meta")}

    def meta(self) -> dict[str, str]:
        with self.reader() as conn:
            return self._read_meta(conn)

    @staticmethod
    def read_meta_at(path: Path) -> dict[str, str] | None:
        """Meta of an existing catalog without opening it for writing; None when absent."""
        if not path.exists():
            return None
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0)
        try:
            return Catalog._read_meta(conn)
        except sqlite3.OperationalError:
            return None
        finally:
            conn.close()

    # -- reads ----------------------------------------------------------------------------------

    def has_source(self, content_hash: str) -> bool:
        with self.reader() as conn:
            row = conn.execute(
                "SELECT 1 FROM sources WHERE content_hash = ?", (content_hash,)
            ).fetchone()
        return row is not None

    def titles(self) -> list[TitleInfo]:
        with self.reader() as conn:
            rows = conn.execute(_TITLE_INFO_SQL + " ORDER BY t.name_key").fetchall()
        return [_title_info(r) for r in rows]

    def title(self, title_id: int) -> TitleInfo | None:
        with self.reader() as conn:
            row = conn.execute(_TITLE_INFO_SQL + " WHERE t.id = ?", (title_id,)).fetchone()
        return None if row is None else _title_info(row)

    def find_title(self, name: str) -> TitleInfo | None:
        with self.reader() as conn:
            row = conn.execute(
                _TITLE_INFO_SQL + " WHERE t.name_key = ?", (title_key(name),)
            ).fetchone()
        return None if row is None else _title_info(row)

    def title_meta(self, title_ids: Iterable[int]) -> dict[int, TitleMeta]:
        """Metadata of these titles (the ones an answer names), without counting their frames."""
        sql = f"SELECT t.id, {_META_COLUMNS} FROM titles t WHERE t.id IN ({{marks}})"
        return {row[0]: _title_meta(row[1:]) for row in self._rows_by_id(sql, title_ids)}

    def sources(self, source_ids: Iterable[int]) -> dict[int, SourceInfo]:
        sql = f"SELECT {_SOURCE_COLUMNS} FROM sources WHERE id IN ({{marks}})"
        return {row[0]: _source_info(row) for row in self._rows_by_id(sql, source_ids)}

    def frame_source(self, frame_id: int) -> tuple[float | None, SourceInfo] | None:
        """A frame's timestamp and its source; None when there is no such frame."""
        columns = ", ".join(f"s.{name}" for name in _SOURCE_COLUMNS.split(", "))
        sql = f"SELECT f.timestamp, {columns} FROM frames f JOIN sources s ON s.id = f.source_id"
        with self.reader() as conn:
            row = conn.execute(sql + " WHERE f.id = ?", (frame_id,)).fetchone()
        return None if row is None else (row[0], _source_info(row[1:]))

    def media_paths(self, title_id: int | None = None) -> set[str]:
        """Recorded video paths, of one title or of all."""
        sql = "SELECT media_path FROM sources WHERE media_path IS NOT NULL"
        with self.reader() as conn:
            if title_id is None:
                return {row[0] for row in conn.execute(sql)}
            return {row[0] for row in conn.execute(sql + " AND title_id = ?", (title_id,))}

    def title_frame_ids(self, title_id: int) -> np.ndarray:
        with self.reader() as conn:
            rows = conn.execute(
                "SELECT f.id FROM frames f JOIN sources s ON s.id = f.source_id"
                " WHERE s.title_id = ?",
                (title_id,),
            ).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def thumbnail(self, frame_id: int) -> bytes | None:
        with self.reader() as conn:
            row = conn.execute("SELECT thumbnail FROM frames WHERE id = ?", (frame_id,)).fetchone()
        return None if row is None else bytes(row[0])

    def counts(self) -> tuple[int, int]:
        with self.reader() as conn:
            titles = conn.execute("SELECT COUNT(*) FROM titles").fetchone()[0]
            frames = conn.execute("SELECT COUNT(*) FROM frames").fetchone()[0]
        return int(titles), int(frames)

    def frame_ids(self) -> np.ndarray:
        with self.reader() as conn:
            rows = conn.execute("SELECT id FROM frames ORDER BY id").fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def hit_rows(self, frame_ids: Iterable[int]) -> dict[int, HitRow]:
        """Catalog facts for hits; ids no longer (or not yet) committed are simply absent."""
        sql = (
            "SELECT f.id, f.source_id, f.timestamp, s.title_id, t.name, s.episode,"
            " COALESCE((SELECT MIN(n.timestamp) FROM frames n WHERE"
            " n.source_id = f.source_id AND n.timestamp > f.timestamp),"
            " CASE WHEN s.duration > f.timestamp THEN s.duration END)"
            " FROM frames f JOIN sources s ON s.id = f.source_id"
            " JOIN titles t ON t.id = s.title_id WHERE f.id IN ({marks})"
        )
        return {int(row[0]): HitRow(*row) for row in self._rows_by_id(sql, frame_ids)}

    def _rows_by_id(self, sql: str, ids: Iterable[int]) -> list[tuple]:
        """Rows of `sql` (its `{marks}` the id list) for these ids, in chunks SQLite accepts."""
        wanted = sorted({int(x) for x in ids})
        rows: list[tuple] = []
        with self.reader() as conn:
            for chunk in _chunks(wanted):
                rows += conn.execute(sql.format(marks=",".join("?" * len(chunk))), chunk)
        return rows

    def vectors_for(
        self, frame_ids: Sequence[int], dim: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        with self.reader() as conn:
            for chunk in _chunks(frame_ids):
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT id, vector FROM frames WHERE id IN ({marks})", chunk
                ).fetchall()
                if rows:
                    yield _unpack_vectors(rows, dim)

    def iter_vectors(self, batch: int, dim: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """All (ids, vectors) in id order, one short read per batch (keyset pagination)."""
        sql = "SELECT id, vector FROM frames WHERE id > ? ORDER BY id LIMIT ?"
        for rows in self._read_pages(sql, batch):
            yield _unpack_vectors(rows, dim)

    def iter_title_vectors(
        self, batch: int, dim: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(title ids, source ids, vectors) in frame id order: what a per-title model fits on."""
        sql = (
            "SELECT f.id, f.vector, s.title_id, f.source_id FROM frames f"
            " JOIN sources s ON s.id = f.source_id WHERE f.id > ? ORDER BY f.id LIMIT ?"
        )
        for rows in self._read_pages(sql, batch):
            _, vectors = _unpack_vectors(rows, dim)
            titles = np.fromiter((r[2] for r in rows), dtype=np.int64, count=len(rows))
            sources = np.fromiter((r[3] for r in rows), dtype=np.int64, count=len(rows))
            yield titles, sources, vectors

    def iter_thumbnails(self, batch: int) -> Iterator[tuple[list[int], list[bytes]]]:
        sql = "SELECT id, thumbnail FROM frames WHERE id > ? ORDER BY id LIMIT ?"
        for rows in self._read_pages(sql, batch):
            yield [int(r[0]) for r in rows], [bytes(r[1]) for r in rows]

    def iter_labelled(self, batch: int) -> Iterator[list[LabelledFrame]]:
        """Frames with title and source in id order; each page is one short read, so a long
        consumer (training export) never holds a read transaction or all thumbnails at once."""
        sql = (
            "SELECT f.id, s.title_id, t.name, f.source_id, s.episode, f.timestamp,"
            " f.thumbnail FROM frames f JOIN sources s ON s.id = f.source_id"
            " JOIN titles t ON t.id = s.title_id WHERE f.id > ? ORDER BY f.id LIMIT ?"
        )
        for rows in self._read_pages(sql, batch):
            yield [
                LabelledFrame(
                    frame_id=int(r[0]),
                    title_id=int(r[1]),
                    title=r[2],
                    source_id=int(r[3]),
                    episode=r[4],
                    timestamp=r[5],
                    thumbnail=bytes(r[6]),
                )
                for r in rows
            ]

    def _read_pages(self, sql: str, batch: int) -> Iterator[list[tuple]]:
        """Pages of `sql` (taking `last id, limit`), each its own short read on a pooled
        connection, so a slow consumer never holds a read transaction open."""

        def fetch(last: int, size: int) -> list[tuple]:
            with self.reader() as conn:
                return conn.execute(sql, (last, size)).fetchall()

        return _pages(fetch, batch)
