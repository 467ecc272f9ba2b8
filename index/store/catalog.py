"""SQLite catalog of titles, sources and frames (with thumbnail and vector): the source of truth."""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from index.errors import StoreClosedError
from index.store import schema
from index.store.catalog_rows import (
    META_COLUMNS,
    SOURCE_COLUMNS,
    TITLE_INFO_SQL,
    HitRow,
    chunks,
    pages,
    source_info,
    title_info,
    title_key,
    title_meta_from_row,
)
from index.store.catalog_tx import CatalogTx
from index.store.colour_codec import unpack_colour
from index.store.vector_codec import ZSTD_MAGIC, unpack_vectors
from index.types import (
    LabelledFrame,
    SourceInfo,
    TitleInfo,
    TitleMeta,
)

CATALOG_FILE = "catalog.sqlite3"
# A frame row (vector + preview, ~3.5 KB) fills most of a 4 KB page, and SQLite stores a row
# whole in one page: 32 KB pages waste ~0.2 KB a frame, 4 KB ones ~0.6 KB (docs/compact.md).
# Only a new database takes it; an older catalog keeps its pages until `index compact`.
PAGE_SIZE = 32768
# Readers map the file instead of copying each page into their own cache: the re-score's 200
# random rows read in 0.7 ms instead of 1.8 (docs/serving.md, "The re-score of the short
# list"). SQLite caps the map (2 GB as built here); past it, pages are read as before.
MMAP_BYTES = 1 << 31


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE) so nothing opens one
    # behind our back; check_same_thread=False because pooled connections move between threads
    # (each is used by one thread at a time).
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 30000")
    if readonly:
        conn.execute("PRAGMA query_only = ON")
        conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    else:
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
    return conn


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
        # Readers first: the last connection to close folds the WAL into the database and
        # deletes it, and a query-only reader cannot.
        self._close_readers()
        with self._write_mutex:
            self._writer.close()

    def _close_readers(self) -> None:
        with self._readers_lock:
            for conn in self._all_readers:
                conn.close()
            self._all_readers.clear()
            self._readers = queue.SimpleQueue()

    def vacuum(self) -> None:
        """Rewrite the file at `PAGE_SIZE` without free pages (`index compact`). It leaves WAL
        mode for that, as SQLite requires to change the page size; readers are closed first."""
        self._check_open()
        self._close_readers()
        with self._write_mutex:
            self._writer.execute("PRAGMA journal_mode = DELETE")
            self._writer.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            self._writer.execute("VACUUM")
            self._writer.execute("PRAGMA journal_mode = WAL")

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
            rows = conn.execute(TITLE_INFO_SQL + " ORDER BY t.name_key").fetchall()
        return [title_info(r) for r in rows]

    def title(self, title_id: int) -> TitleInfo | None:
        with self.reader() as conn:
            row = conn.execute(TITLE_INFO_SQL + " WHERE t.id = ?", (title_id,)).fetchone()
        return None if row is None else title_info(row)

    def find_title(self, name: str) -> TitleInfo | None:
        with self.reader() as conn:
            row = conn.execute(
                TITLE_INFO_SQL + " WHERE t.name_key = ?", (title_key(name),)
            ).fetchone()
        return None if row is None else title_info(row)

    def title_meta(self, title_ids: Iterable[int]) -> dict[int, TitleMeta]:
        """Metadata of these titles (the ones an answer names), without counting their frames."""
        sql = f"SELECT t.id, {META_COLUMNS} FROM titles t WHERE t.id IN ({{marks}})"
        return {row[0]: title_meta_from_row(row[1:]) for row in self._rows_by_id(sql, title_ids)}

    def sources(self, source_ids: Iterable[int]) -> dict[int, SourceInfo]:
        sql = f"SELECT {SOURCE_COLUMNS} FROM sources WHERE id IN ({{marks}})"
        return {row[0]: source_info(row) for row in self._rows_by_id(sql, source_ids)}

    def frame_source(self, frame_id: int) -> tuple[float | None, SourceInfo] | None:
        """A frame's timestamp and its source; None when there is no such frame."""
        columns = ", ".join(f"s.{name}" for name in SOURCE_COLUMNS.split(", "))
        sql = f"SELECT f.timestamp, {columns} FROM frames f JOIN sources s ON s.id = f.source_id"
        with self.reader() as conn:
            row = conn.execute(sql + " WHERE f.id = ?", (frame_id,)).fetchone()
        return None if row is None else (row[0], source_info(row[1:]))

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

    def colours(self, frame_ids: Iterable[int]) -> dict[int, bytes]:
        """Stored colour histograms by frame id; frames stored before schema 5 are absent."""
        sql = "SELECT frame_id, colour FROM frame_colours WHERE frame_id IN ({marks})"
        return {int(r[0]): unpack_colour(bytes(r[1])) for r in self._rows_by_id(sql, frame_ids)}

    def projection(self) -> tuple[str, bytes] | None:
        """(model name, basis) of the index's projection; None: the index holds full vectors."""
        with self.reader() as conn:
            row = conn.execute("SELECT model_name, basis FROM projection WHERE id = 1").fetchone()
        return None if row is None else (str(row[0]), bytes(row[1]))

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
            " COALESCE(f.span_start, f.timestamp), COALESCE(f.span_end,"
            # Frames stored before stretches (schema < 3) stand until the next kept frame.
            " (SELECT MIN(n.timestamp) FROM frames n WHERE"
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
            for chunk in chunks(wanted):
                rows += conn.execute(sql.format(marks=",".join("?" * len(chunk))), chunk)
        return rows

    def vectors_for(
        self, frame_ids: Sequence[int], dim: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        with self.reader() as conn:
            for chunk in chunks(frame_ids):
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT id, vector FROM frames WHERE id IN ({marks})", chunk
                ).fetchall()
                if rows:
                    yield unpack_vectors(rows, dim)

    def iter_vectors(self, batch: int, dim: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """All (ids, vectors) in id order, one short read per batch (keyset pagination)."""
        sql = "SELECT id, vector FROM frames WHERE id > ? ORDER BY id LIMIT ?"
        for rows in self._read_pages(sql, batch):
            yield unpack_vectors(rows, dim)

    def iter_title_vectors(
        self, batch: int, dim: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """(title ids, source ids, vectors, frame ids) in frame id order: what a per-title model
        fits on (the ids find each frame's thumbnail)."""
        sql = (
            "SELECT f.id, f.vector, s.title_id, f.source_id FROM frames f"
            " JOIN sources s ON s.id = f.source_id WHERE f.id > ? ORDER BY f.id LIMIT ?"
        )
        for rows in self._read_pages(sql, batch):
            ids, vectors = unpack_vectors(rows, dim)
            titles = np.fromiter((r[2] for r in rows), dtype=np.int64, count=len(rows))
            sources = np.fromiter((r[3] for r in rows), dtype=np.int64, count=len(rows))
            yield titles, sources, vectors, ids

    def frames_to_compact(self, batch: int) -> Iterator[list[tuple[int, bytes, bytes]]]:
        """(id, vector, preview) of frames with a vector not in zstd (float32 or deflated) or
        a JPEG preview, by id."""
        sql = (
            "SELECT id, vector, thumbnail FROM frames WHERE id > ?"
            f" AND (substr(vector, 1, 4) != x'{ZSTD_MAGIC.hex()}'"
            " OR substr(thumbnail, 1, 2) = x'FFD8') ORDER BY id LIMIT ?"
        )
        for rows in self._read_pages(sql, batch):
            yield [(int(r[0]), bytes(r[1]), bytes(r[2])) for r in rows]

    def colours_to_compact(self, batch: int) -> Iterator[list[tuple[int, bytes]]]:
        """(frame id, palette) of palettes stored raw, before they went into zstd, by id."""
        sql = (
            "SELECT frame_id, colour FROM frame_colours WHERE frame_id > ?"
            f" AND substr(colour, 1, 4) != x'{ZSTD_MAGIC.hex()}' ORDER BY frame_id LIMIT ?"
        )
        for rows in self._read_pages(sql, batch):
            yield [(int(r[0]), bytes(r[1])) for r in rows]

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

        return pages(fetch, batch)
