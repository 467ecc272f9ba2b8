"""The catalog's SQLite schema and its migrations: an older catalog is upgraded in place at open.

Version 1: titles, sources, frames, staged re-embed vectors. Version 2 adds what answers show:
title metadata (aliases, AniList and MyAnimeList ids, year), each source's duration and kept
media path, and an index on (source, timestamp) that finds a frame's next kept frame. Version 3
adds the stretch of its video each frame stands for (shot-aware sampling); frames stored before
have none and stand until their next kept frame, as before. Version 4 adds the vector index's
projection (`index.store.projection`); from it on, vectors are written as int8 (deflated with a
scale at first, in zstd since; `index.store.vector_codec` tells each row's form) and previews as
WebP, while older float32 vectors and JPEG previews stay readable (`shazam-anime index compact`
rewrites them). Version 5 adds each frame's colour histograms from its full frame
(`index.query.colour`, the title head's palette: plain then grey, or the plain one alone in rows
written before the grey one was); frames stored before have none and the head reads their
preview's instead.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from index.errors import SchemaVersionError

SCHEMA_VERSION = 5

# The current schema for a new catalog; `_MIGRATIONS[v]` takes a version-v catalog to v + 1.
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS titles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    aliases TEXT NOT NULL DEFAULT '[]',  -- JSON list of strings
    anilist_id INTEGER,
    mal_id INTEGER,
    year INTEGER
);
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title_id INTEGER NOT NULL REFERENCES titles(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('video', 'images')),
    uri TEXT NOT NULL,
    content_hash TEXT NOT NULL UNIQUE,
    episode TEXT,
    added_at REAL NOT NULL,
    duration REAL,
    media_path TEXT
);
CREATE INDEX IF NOT EXISTS sources_title ON sources(title_id);
-- id is the hnswlib label. AUTOINCREMENT: a committed id is never handed out again.
-- vector precedes thumbnail so reading it does not walk the thumbnail's overflow pages.
CREATE TABLE IF NOT EXISTS frames (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    timestamp REAL,
    span_start REAL,  -- the stretch [span_start, span_end) of the video the frame stands for
    span_end REAL,
    content_hash TEXT NOT NULL,
    vector BLOB NOT NULL,
    thumbnail BLOB NOT NULL,
    UNIQUE (source_id, content_hash)
);
CREATE INDEX IF NOT EXISTS frames_source_time ON frames(source_id, timestamp);
-- The vector index's projection for the catalog's model: one row, or none (full vectors).
CREATE TABLE IF NOT EXISTS projection (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    model_name TEXT NOT NULL,
    basis BLOB NOT NULL  -- numpy .npy of float32 (dim, index dims)
);
-- The full frame's colour histograms, one byte a bin (`index.query.colour`): model-independent.
CREATE TABLE IF NOT EXISTS frame_colours (
    frame_id INTEGER PRIMARY KEY REFERENCES frames(id) ON DELETE CASCADE,
    colour BLOB NOT NULL
);
-- New vectors staged by `index reembed` until the atomic model switch.
CREATE TABLE IF NOT EXISTS reembed_vectors (
    frame_id INTEGER PRIMARY KEY REFERENCES frames(id) ON DELETE CASCADE,
    vector BLOB NOT NULL
);
"""

_MIGRATIONS = {
    1: """
ALTER TABLE titles ADD COLUMN aliases TEXT NOT NULL DEFAULT '[]';
ALTER TABLE titles ADD COLUMN anilist_id INTEGER;
ALTER TABLE titles ADD COLUMN mal_id INTEGER;
ALTER TABLE titles ADD COLUMN year INTEGER;
ALTER TABLE sources ADD COLUMN duration REAL;
ALTER TABLE sources ADD COLUMN media_path TEXT;
CREATE INDEX IF NOT EXISTS frames_source_time ON frames(source_id, timestamp);
""",
    2: """
ALTER TABLE frames ADD COLUMN span_start REAL;
ALTER TABLE frames ADD COLUMN span_end REAL;
""",
    3: """
CREATE TABLE IF NOT EXISTS projection (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    model_name TEXT NOT NULL,
    basis BLOB NOT NULL
);
""",
    4: """
CREATE TABLE IF NOT EXISTS frame_colours (
    frame_id INTEGER PRIMARY KEY REFERENCES frames(id) ON DELETE CASCADE,
    colour BLOB NOT NULL
);
""",
}


def prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Create a new catalog's tables, or bring an older catalog up to `SCHEMA_VERSION`.

    Each step runs in one transaction with its version stamp, so an interrupted upgrade leaves
    the catalog at the old version, to be upgraded again at the next open.
    """
    version = _version(conn)
    if version is not None and version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{path} uses catalog schema {version}; this version reads up to "
            f"{SCHEMA_VERSION}: upgrade ShazamAnime"
        )
    while version != SCHEMA_VERSION:
        script = SCHEMA if version is None else _MIGRATIONS[version]
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in script.split(";"):
                if statement.strip():
                    conn.execute(statement)
            version = SCHEMA_VERSION if version is None else version + 1
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (str(version),),
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def _version(conn: sqlite3.Connection) -> int | None:
    """The catalog's schema version; None for a new (empty) database."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return None if row is None else int(row[0])
