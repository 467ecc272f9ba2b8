"""`index compact`: an older catalog's float32 vectors and JPEG previews rewritten, same answers."""

from __future__ import annotations

import io
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from index.ingest.mapper import encode_thumbnail
from index.store.catalog import CATALOG_FILE, PAGE_SIZE
from index.store.frame_store import FrameStore
from index.store.vector_codec import ZSTD_MAGIC
from index.types import PALETTE_DIM
from tests.index.storekit import clustered, deflated, frames, source

pytestmark = pytest.mark.usefixtures("vector_backend")

DIM = 32
DATA = clustered(300, DIM, clusters=30, seed=4)


def reencode(jpeg: bytes) -> bytes:
    with Image.open(io.BytesIO(jpeg)) as image:
        return encode_thumbnail(image)


def as_schema_3_wrote_it(path: Path) -> None:
    """float32 vectors and 4 KB pages, as catalogs before schema 4 were written."""
    conn = sqlite3.connect(path / CATALOG_FILE, isolation_level=None)
    ids = [row[0] for row in conn.execute("SELECT id FROM frames ORDER BY id")]
    conn.executemany(
        "UPDATE frames SET vector = ? WHERE id = ?",
        [(DATA[i].astype("<f4").tobytes(), fid) for i, fid in enumerate(ids)],
    )
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("PRAGMA page_size = 4096")
    conn.execute("VACUUM")
    conn.close()


def layout(path: Path) -> tuple[set[int], set[bytes], int]:
    """Vector lengths, preview kinds (first 2 bytes) and page size of the catalog."""
    with closing(sqlite3.connect(path / CATALOG_FILE)) as conn:
        rows = conn.execute("SELECT length(vector), substr(thumbnail, 1, 2) FROM frames").fetchall()
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    return {r[0] for r in rows}, {bytes(r[1]) for r in rows}, page


def test_compact_rewrites_an_older_catalog_which_answers_the_same(tmp_path: Path) -> None:
    with FrameStore.open(tmp_path, dim=DIM, model_name="m") as store:
        store.add(source("T", "s"), frames(300, "s"), DATA)
    as_schema_3_wrote_it(tmp_path)
    assert layout(tmp_path) == ({4 * DIM}, {b"\xff\xd8"}, 4096)
    with FrameStore.open(tmp_path, dim=DIM, model_name="m") as store:
        before = [[h.frame_id for h in row] for row in store.search(DATA[::10], 5)]
        assert store.compact(reencode) == 300
        assert [[h.frame_id for h in row] for row in store.search(DATA[::10], 5)] == before
        assert store.compact(reencode) == 0  # nothing left to do
        preview = store.thumbnail(before[0][0])
    lengths, kinds, page = layout(tmp_path)
    assert (
        4 * DIM not in lengths and max(lengths) < 4 * DIM and (kinds, page) == ({b"RI"}, PAGE_SIZE)
    )
    assert preview is not None and preview[8:12] == b"WEBP"
    with FrameStore.open(tmp_path, dim=DIM, model_name="m") as store:
        assert [[h.frame_id for h in row] for row in store.search(DATA[::10], 5)] == before
        assert np.isfinite(store.stats().extra["catalog_bytes"])


def test_a_catalog_of_deflated_vectors_answers_the_same_and_compacts_to_zstd(
    tmp_path: Path,
) -> None:
    with FrameStore.open(tmp_path, dim=DIM, model_name="m") as store:
        store.add(source("T", "s"), frames(300, "s"), DATA)
        today = store.search(DATA[::10], 5)
    with closing(sqlite3.connect(tmp_path / CATALOG_FILE, isolation_level=None)) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM frames ORDER BY id")]
        conn.executemany(  # as the first schema 4 release wrote them
            "UPDATE frames SET vector = ? WHERE id = ?",
            [(blob, fid) for blob, fid in zip(deflated(DATA), ids, strict=True)],
        )
    assert {kind[:4] == ZSTD_MAGIC for kind in vector_heads(tmp_path)} == {False}

    def answers(store: FrameStore) -> list[list[tuple[int, float]]]:
        return [[(h.frame_id, h.similarity) for h in row] for row in store.search(DATA[::10], 5)]

    expected = [[(h.frame_id, h.similarity) for h in row] for row in today]
    with FrameStore.open(tmp_path, dim=DIM, model_name="m") as store:
        assert np.allclose(np.array(answers(store)), np.array(expected), atol=1e-6)
        assert store.compact(reencode) == 300
        assert np.allclose(np.array(answers(store)), np.array(expected), atol=1e-6)
        assert store.compact(reencode) == 0
    assert {kind[:4] == ZSTD_MAGIC for kind in vector_heads(tmp_path)} == {True}


def vector_heads(path: Path) -> list[bytes]:
    with closing(sqlite3.connect(path / CATALOG_FILE)) as conn:
        return [bytes(row[0]) for row in conn.execute("SELECT substr(vector, 1, 4) FROM frames")]


def test_compact_puts_palettes_stored_raw_into_zstd_and_they_read_the_same(tmp_path: Path) -> None:
    palettes = [bytes([i % 7, 0, 0, 90 + i % 50]) * (PALETTE_DIM // 4) for i in range(300)]
    records = [replace(r, colour=p) for r, p in zip(frames(300, "s"), palettes, strict=True)]
    with FrameStore.open(tmp_path, dim=DIM, model_name="m") as store:
        store.add(source("T", "s"), records, DATA)
        ids = [h.frame_id for h in store.search(DATA[:1], 1)[0]]
    with closing(sqlite3.connect(tmp_path / CATALOG_FILE, isolation_level=None)) as conn:
        stored = dict(conn.execute("SELECT frame_id, colour FROM frame_colours"))
        conn.executemany(  # as catalogs before the palettes' zstd wrote them: raw
            "UPDATE frame_colours SET colour = ? WHERE frame_id = ?",
            [(palettes[i], fid) for i, fid in enumerate(sorted(stored))],
        )
    with FrameStore.open(tmp_path, dim=DIM, model_name="m") as store:
        assert store.colours(ids) == {ids[0]: palettes[sorted(stored).index(ids[0])]}
        assert store.compact(reencode) == 300  # its JPEG previews too
        assert store.colours(sorted(stored)) == dict(zip(sorted(stored), palettes, strict=True))
    with closing(sqlite3.connect(tmp_path / CATALOG_FILE)) as conn:
        rows = conn.execute("SELECT substr(colour, 1, 4), length(colour) FROM frame_colours")
        assert {(bytes(head), size < PALETTE_DIM) for head, size in rows} == {(ZSTD_MAGIC, True)}
