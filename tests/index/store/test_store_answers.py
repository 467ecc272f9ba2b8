"""What answers read from the store: each frame's stretch, sources, title metadata, a search
limited to one title, and the upgrade of a version-1 catalog in place."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from index.errors import InvalidInputError
from index.store.catalog import CATALOG_FILE
from index.store.frame_store import FrameStore
from index.store.schema import SCHEMA_VERSION
from index.types import TitleMeta
from tests.index.storekit import clustered, frames, source

pytestmark = pytest.mark.usefixtures("vector_backend")

DIM = 16

# The schema of catalogs written before version 2, as they exist on disk.
_VERSION_1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE titles (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE, created_at REAL NOT NULL);
CREATE TABLE sources (id INTEGER PRIMARY KEY AUTOINCREMENT,
    title_id INTEGER NOT NULL REFERENCES titles(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('video', 'images')), uri TEXT NOT NULL,
    content_hash TEXT NOT NULL UNIQUE, episode TEXT, added_at REAL NOT NULL);
CREATE INDEX sources_title ON sources(title_id);
CREATE TABLE frames (id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE, timestamp REAL,
    content_hash TEXT NOT NULL, vector BLOB NOT NULL, thumbnail BLOB NOT NULL,
    UNIQUE (source_id, content_hash));
CREATE TABLE reembed_vectors (frame_id INTEGER PRIMARY KEY REFERENCES frames(id)
    ON DELETE CASCADE, vector BLOB NOT NULL);
INSERT INTO meta VALUES ('schema_version', '1');
"""


@pytest.fixture
def store(tmp_path: Path):
    opened = FrameStore.open(tmp_path / "data", dim=DIM, model_name="test-model")
    yield opened
    opened.close()


def test_each_frame_answers_with_the_stretch_stored_for_it(store: FrameStore) -> None:
    # A static shot 0-3 s kept once; a pan 3-5 s whose kept frame sits in its middle.
    stretches = ((0.0, 0.0, 3.0), (3.0, 4.0, 5.0))
    records = [
        replace(f, start=start, timestamp=at, end=end)
        for f, (start, at, end) in zip(frames(2, "s"), stretches, strict=True)
    ]
    data = clustered(2, DIM, clusters=2, seed=1)
    store.add(replace(source("T", "s"), duration=5.0), records, data)
    found = {(hit.start, hit.timestamp, hit.end) for hit in store.search(data, 2)[0]}
    assert found == set(stretches)


@pytest.mark.parametrize(
    "stretch", [(1.0, 0.5, 2.0), (0.0, 1.0, None), (0.0, 1.0, float("nan")), (2.0, 1.0, 0.0)]
)
def test_a_stretch_that_does_not_hold_its_frame_is_refused(
    store: FrameStore, stretch: tuple
) -> None:
    start, at, end = stretch
    [record] = frames(1, "bad")
    with pytest.raises(InvalidInputError, match="stretch"):
        store.add(
            source("T", "bad"),
            [replace(record, start=start, timestamp=at, end=end)],
            clustered(1, DIM, 1, 9),
        )


def test_frames_stored_without_a_stretch_stand_until_the_next_kept_frame(
    store: FrameStore,
) -> None:
    # As catalogs before schema 3 hold them: kept at 0, 3 and 3.5; the video lasts 5 s.
    records = [
        replace(f, timestamp=t) for f, t in zip(frames(3, "e"), (0.0, 3.0, 3.5), strict=True)
    ]
    data = clustered(3, DIM, clusters=3, seed=1)
    added = store.add(replace(source("T", "e"), duration=5.0), records, data)
    spans = {hit.timestamp: (hit.start, hit.end) for hit in store.search(data, 3)[0]}
    assert spans == {0.0: (0.0, 3.0), 3.0: (3.0, 3.5), 3.5: (3.5, 5.0)}
    [info] = store.sources([added.source_id]).values()
    assert (info.uri, info.duration, info.media_path, info.kind) == ("e.mkv", 5.0, None, "video")


def test_an_unknown_duration_leaves_the_last_stretch_open(store: FrameStore) -> None:
    data = clustered(2, DIM, clusters=2, seed=2)
    store.add(source("T", "e"), frames(2, "e"), data)
    assert sorted((h.timestamp, h.end) for h in store.search(data, 2)[0]) == [
        (0.0, 1.0),
        (1.0, None),
    ]


def test_search_limited_to_one_title_finds_only_its_frames(store: FrameStore) -> None:
    data = clustered(40, DIM, clusters=10, seed=3)
    first = store.add(source("A", "a"), frames(20, "a"), data[:20])
    second = store.add(source("B", "b"), frames(20, "b"), data[20:])
    unrestricted = store.search(data[:3], 10)
    assert {hit.title_id for row in unrestricted for hit in row} == {
        first.title_id,
        second.title_id,
    }
    limited = store.search(data[:3], 10, title_id=second.title_id)
    assert all(len(row) == 10 for row in limited)
    assert {hit.title_id for row in limited for hit in row} == {second.title_id}
    assert store.search(data[:1], 5, title_id=999) == [[]]


def test_title_metadata_is_set_cleaned_and_listed(store: FrameStore) -> None:
    title_id = store.add(source("Frieren", "f"), frames(2, "f"), clustered(2, DIM, 2, 4)).title_id
    meta = TitleMeta(
        (" Sousou no  Frieren ", "sousou no frieren", "葬送のフリーレン"), 154587, 52991, 2023
    )
    updated = store.set_title_meta(title_id, meta)
    assert updated is not None
    assert updated.aliases == ("Sousou no Frieren", "葬送のフリーレン")
    assert (updated.anilist_id, updated.mal_id, updated.year) == (154587, 52991, 2023)
    assert store.titles()[0] == updated
    assert store.title_meta([title_id, 999]) == {
        title_id: TitleMeta(updated.aliases, 154587, 52991, 2023)
    }
    assert store.set_title_meta(999, meta) is None
    with pytest.raises(InvalidInputError, match="year"):
        store.set_title_meta(title_id, TitleMeta(year=0))


def test_a_version_1_catalog_is_upgraded_in_place_keeping_its_frames(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with FrameStore.open(data_dir, dim=DIM, model_name="test-model") as store:
        data = clustered(4, DIM, clusters=4, seed=5)
        store.add(source("Old", "o"), frames(4, "o"), data)
    # Rewrite the catalog as version 1 had it: same rows, the old tables.
    path = data_dir / CATALOG_FILE
    conn = sqlite3.connect(path)
    titles = conn.execute("SELECT id, name, name_key, created_at FROM titles").fetchall()
    sources = conn.execute(
        "SELECT id, title_id, kind, uri, content_hash, episode, added_at FROM sources"
    ).fetchall()
    rows = conn.execute(
        "SELECT id, source_id, timestamp, content_hash, vector, thumbnail FROM frames"
    ).fetchall()
    conn.close()
    path.unlink()
    old = sqlite3.connect(path)
    old.executescript(_VERSION_1)
    meta = [("model_name", "test-model"), ("dim", str(DIM))]
    old.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta)
    old.executemany("INSERT INTO titles VALUES (?, ?, ?, ?)", titles)
    old.executemany("INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?)", sources)
    old.executemany("INSERT INTO frames VALUES (?, ?, ?, ?, ?, ?)", rows)
    old.commit()
    old.close()
    with FrameStore.open(data_dir, dim=DIM, model_name="test-model") as store:
        [title] = store.titles()
        assert (title.name, title.frames, title.aliases, title.year) == ("Old", 4, (), None)
        hits = store.search(data, 1)
        assert [row[0].timestamp for row in hits] == [0.0, 1.0, 2.0, 3.0]
        assert [row[0].end for row in hits] == [1.0, 2.0, 3.0, None]
        assert store.set_title_meta(title.id, TitleMeta(year=2001)).year == 2001
    check = sqlite3.connect(path)
    version = check.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    check.close()
    assert version == (str(SCHEMA_VERSION),)
