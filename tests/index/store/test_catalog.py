"""The SQLite catalog: schema, case-insensitive titles, cascade deletes, readers beside a writer."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from index.errors import SchemaVersionError
from index.store.catalog import CATALOG_FILE, Catalog
from index.store.catalog_rows import title_key
from index.store.vector_codec import ZSTD_MAGIC, quantized
from index.types import COLOUR_DIM, PALETTE_DIM
from tests.index.storekit import as_older_schema, frames, source, unit


@pytest.fixture
def catalog(tmp_path: Path):
    opened = Catalog(tmp_path / CATALOG_FILE)
    yield opened
    opened.close()


def add_title(catalog: Catalog, name: str, src: str, count: int) -> tuple[int, list[int]]:
    vectors = unit(np.random.default_rng(len(src)).normal(size=(count, 8)))
    with catalog.transaction() as tx:
        title_id = tx.get_or_create_title(name)
        source_id = tx.insert_source(title_id, source(name, src))
        first = tx.next_frame_id()
        ids = list(range(first, first + count))
        tx.insert_frames(ids, source_id, frames(count, src), vectors)
    return title_id, ids


def test_title_key_ignores_case_width_and_spacing() -> None:
    assert title_key("Sousou no Frieren") == title_key("  SOUSOU   no frieren ")
    assert title_key("Ｆｒｉｅｒｅｎ") == title_key("frieren")
    assert title_key("Pokémon") == title_key("POKÉMON")
    assert title_key("Frieren") != title_key("Frieren 2")


def test_wal_mode_and_foreign_keys_are_on(catalog: Catalog) -> None:
    with catalog.reader() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_titles_are_unique_case_insensitively(catalog: Catalog) -> None:
    first, _ = add_title(catalog, "Frieren", "a", 2)
    second, _ = add_title(catalog, "FRIEREN", "b", 3)
    assert first == second
    info = catalog.find_title("frieren")
    assert info is not None and (info.name, info.frames, info.sources) == ("Frieren", 5, 2)
    with catalog.transaction() as tx, pytest.raises(sqlite3.IntegrityError):
        tx.conn.execute(
            "INSERT INTO titles (name, name_key, created_at) VALUES ('x', ?, 0)",
            (title_key("frieren"),),
        )


def test_delete_title_cascades_and_ids_are_never_reused(catalog: Catalog) -> None:
    keep_id, keep_frames = add_title(catalog, "Keep", "k", 2)
    gone_id, gone_frames = add_title(catalog, "Gone", "g", 4)
    with catalog.transaction() as tx:
        assert sorted(tx.delete_title(gone_id)) == gone_frames
        assert tx.delete_title(gone_id) is None
    assert catalog.frame_ids().tolist() == keep_frames
    assert not catalog.has_source("g") and catalog.has_source("k")
    assert catalog.hit_rows(gone_frames) == {}
    _, new_frames = add_title(catalog, "New", "n", 1)
    assert new_frames[0] > max(gone_frames)


def test_failed_transaction_leaves_catalog_unchanged(catalog: Catalog) -> None:
    add_title(catalog, "Before", "b", 2)
    with pytest.raises(RuntimeError, match="boom"), catalog.transaction() as tx:
        tx.get_or_create_title("During")
        raise RuntimeError("boom")
    assert [t.name for t in catalog.titles()] == ["Before"]


def test_vectors_are_stored_as_zstd_int8_and_read_back_as_unit_float32(
    catalog: Catalog,
) -> None:
    _, ids = add_title(catalog, "V", "v", 5)
    expected = unit(np.random.default_rng(1).normal(size=(5, 8)))
    got_ids, got = next(catalog.iter_vectors(100, 8))
    assert got_ids.tolist() == ids
    assert got.dtype == np.float32 and np.allclose(np.linalg.norm(got, axis=1), 1.0)
    assert np.abs(got - expected).max() < 0.01 and not np.array_equal(got, expected)
    assert np.allclose(quantized(got), got, atol=1e-6)  # what the catalog holds is a fixed point
    with catalog.reader() as conn:
        blobs = [bytes(row[0]) for row in conn.execute("SELECT vector FROM frames")]
    assert all(blob[:4] == ZSTD_MAGIC for blob in blobs)
    assert max(map(len, blobs)) <= 8 + 9 and 4 * 8 not in map(len, blobs)  # never float32's


def test_float32_vectors_of_an_older_catalog_read_as_they_are(catalog: Catalog) -> None:
    _, ids = add_title(catalog, "V", "v", 3)
    old = unit(np.random.default_rng(2).normal(size=(3, 8))).astype("<f4")
    with catalog.transaction() as tx:  # as a schema 3 catalog wrote them
        tx.conn.execute("UPDATE frames SET vector = ? WHERE id = ?", (old[0].tobytes(), ids[0]))
    got_ids, got = next(catalog.iter_vectors(100, 8))
    assert got_ids.tolist() == ids and np.array_equal(got[0], old[0])
    assert np.abs(got[1:] - unit(np.random.default_rng(1).normal(size=(3, 8)))[1:]).max() < 0.01


def test_readers_do_not_wait_for_an_open_write(catalog: Catalog) -> None:
    add_title(catalog, "Visible", "v", 3)
    writing = threading.Event()
    finish = threading.Event()

    def long_write() -> None:
        with catalog.transaction() as tx:
            tx.get_or_create_title("Uncommitted")
            writing.set()
            finish.wait(10)

    writer = threading.Thread(target=long_write)
    writer.start()
    assert writing.wait(5)
    started = time.monotonic()
    names = [t.name for t in catalog.titles()]
    elapsed = time.monotonic() - started
    finish.set()
    writer.join()
    assert names == ["Visible"]  # the reader sees the last commit...
    assert elapsed < 2.0  # ...without waiting for the writer (busy timeout is 30 s)
    assert {t.name for t in catalog.titles()} == {"Visible", "Uncommitted"}


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / CATALOG_FILE
    Catalog(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaVersionError, match="upgrade"):
        Catalog(path)


def test_a_schema_3_catalog_is_upgraded_to_4_with_a_projection_table(tmp_path: Path) -> None:
    Catalog(tmp_path / CATALOG_FILE).close()
    as_older_schema(tmp_path / CATALOG_FILE, 3, "projection")
    upgraded = Catalog(tmp_path / CATALOG_FILE)
    try:
        assert upgraded.meta()["schema_version"] == "5" and upgraded.projection() is None
        with upgraded.transaction() as tx:
            tx.set_projection("m", b"basis")
        assert upgraded.projection() == ("m", b"basis")
    finally:
        upgraded.close()


def test_colours_are_stored_by_frame_and_leave_with_their_title(catalog: Catalog) -> None:
    vectors = unit(np.random.default_rng(4).normal(size=(3, 8)))
    records = [replace(r, colour=bytes([i]) * COLOUR_DIM) for i, r in enumerate(frames(3, "c"))]
    records[2] = replace(records[2], colour=None)  # a frame whose histogram was not computed
    with catalog.transaction() as tx:
        title_id = tx.get_or_create_title("Colourful")
        source_id = tx.insert_source(title_id, source("Colourful", "c"))
        tx.insert_frames([5, 6, 7], source_id, records, vectors)
    assert catalog.colours([5, 6, 7, 99]) == {5: bytes(COLOUR_DIM), 6: b"\x01" * COLOUR_DIM}
    with catalog.transaction() as tx:
        tx.delete_title(title_id)
    assert catalog.colours([5, 6]) == {}
    with catalog.reader() as conn:
        assert conn.execute("SELECT COUNT(*) FROM frame_colours").fetchone() == (0,)


def test_colours_are_stored_compressed_and_raw_rows_from_before_still_read(
    catalog: Catalog, tmp_path: Path
) -> None:
    rng = np.random.default_rng(5)
    sparse = np.where(rng.random(PALETTE_DIM) < 0.4, 0, rng.integers(1, 60, PALETTE_DIM))
    palette = sparse.astype(np.uint8).tobytes()  # a third of the bins empty, as real ones
    vectors = unit(rng.normal(size=(2, 8)))
    records = [replace(r, colour=palette) for r in frames(2, "z")]
    with catalog.transaction() as tx:
        source_id = tx.insert_source(tx.get_or_create_title("Zipped"), source("Zipped", "z"))
        tx.insert_frames([1, 2], source_id, records, vectors)
    with sqlite3.connect(tmp_path / CATALOG_FILE) as conn:  # frame 2 raw, as stored before
        conn.execute("UPDATE frame_colours SET colour = ? WHERE frame_id = 2", (palette,))
        stored = conn.execute("SELECT colour FROM frame_colours WHERE frame_id = 1").fetchone()[0]
    assert stored[:4] == ZSTD_MAGIC and len(stored) < PALETTE_DIM
    assert catalog.colours([1, 2]) == {1: palette, 2: palette}


def test_a_schema_4_catalog_is_upgraded_to_5_and_keeps_its_frames(tmp_path: Path) -> None:
    old = Catalog(tmp_path / CATALOG_FILE)
    _, ids = add_title(old, "Before", "b", 2)
    old.close()
    as_older_schema(tmp_path / CATALOG_FILE, 4, "frame_colours")
    upgraded = Catalog(tmp_path / CATALOG_FILE)
    try:
        assert upgraded.meta()["schema_version"] == "5"
        assert upgraded.colours(ids) == {} and upgraded.thumbnail(ids[0])  # a preview to read
        _, new_ids = add_title(upgraded, "After", "a", 1)
        assert upgraded.counts() == (2, 3) and upgraded.colours(new_ids) == {}
    finally:
        upgraded.close()
