"""Rows of the catalog as the store's types, the SQL they come from, and paging helpers,
shared by the catalog's reads (`catalog`) and its write transaction (`catalog_tx`)."""

from __future__ import annotations

import json
import unicodedata
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from index.types import SourceInfo, TitleInfo, TitleMeta

# Stay well under SQLite's host-parameter limit in `IN (...)` lists.
IN_CHUNK = 900


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
    start: float | None  # the stored stretch, else the frame's own time
    end: float | None  # the stored stretch, else the next kept frame's time, else the duration


def chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), IN_CHUNK):
        yield [int(x) for x in ids[start : start + IN_CHUNK]]


def title_info(row: tuple) -> TitleInfo:
    meta = title_meta_from_row(row[5:])
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


def title_meta_from_row(row: Sequence) -> TitleMeta:
    aliases, anilist_id, mal_id, year = row
    return TitleMeta(tuple(json.loads(aliases or "[]")), anilist_id, mal_id, year)


def source_info(row: tuple) -> SourceInfo:
    return SourceInfo(
        id=row[0],
        title_id=row[1],
        kind=row[2],
        uri=row[3],
        episode=row[4],
        duration=row[5],
        media_path=row[6],
    )


META_COLUMNS = "t.aliases, t.anilist_id, t.mal_id, t.year"
TITLE_INFO_SQL = f"""
SELECT t.id, t.name,
       (SELECT COUNT(*) FROM frames f JOIN sources s ON s.id = f.source_id
         WHERE s.title_id = t.id),
       (SELECT COUNT(DISTINCT episode) FROM sources WHERE title_id = t.id),
       (SELECT COUNT(*) FROM sources WHERE title_id = t.id),
       {META_COLUMNS}
FROM titles t
"""
SOURCE_COLUMNS = "id, title_id, kind, uri, episode, duration, media_path"


def pages(fetch: Callable[[int, int], list[tuple]], batch: int) -> Iterator[list[tuple]]:
    """Keyset pagination on the rows' first column (an id): no OFFSET scans, no long reads."""
    last = -1
    while rows := fetch(last, batch):
        yield rows
        last = int(rows[-1][0])


def pack_vectors(vectors: np.ndarray) -> list[bytes]:
    """Unit vectors as stored: a float32 scale, then the int8 components deflated (~0.85 KB for
    Lite0's 1280, against 5 KB of float32; the cosine moves by under 0.002, docs/compact.md).
    Never exactly 4 x dim bytes long, which is how a float32 vector is told apart."""
    data = np.asarray(vectors, dtype=np.float32)
    scales = np.maximum(np.abs(data).max(axis=1, initial=0.0), 1e-12) / 127.0
    codes = np.rint(data / scales[:, None]).clip(-127, 127).astype(np.int8)
    blobs = [
        scale.tobytes() + zlib.compress(code.tobytes(), 6)
        for scale, code in zip(scales.astype("<f4"), codes, strict=True)
    ]
    wide = 4 * data.shape[1]
    return [blob + b"\0" if len(blob) == wide else blob for blob in blobs]  # ignored on read


def quantized(vectors: np.ndarray) -> np.ndarray:
    """`vectors` as the catalog gives them back: the store indexes these, so an index rebuilt
    from the catalog answers exactly as the one that took the adds."""
    rows = [(0, blob) for blob in pack_vectors(vectors)]
    return unpack_vectors(rows, np.asarray(vectors).shape[1])[1]


def unpack_vectors(rows: Sequence[tuple[int, bytes]], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids, unit float32 vectors) of stored rows: deflated int8 with a scale, or a float32
    vector as catalogs before schema 4 wrote (both may sit in one catalog until `index
    compact`)."""
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    vectors = np.empty((len(rows), dim), dtype=np.float32)
    old = np.fromiter((len(r[1]) == 4 * dim for r in rows), dtype=bool, count=len(rows))
    packed, wide = np.flatnonzero(~old), np.flatnonzero(old)
    if wide.size:
        blob = b"".join(rows[i][1] for i in wide)
        vectors[wide] = np.frombuffer(blob, dtype="<f4").reshape(len(wide), dim)
    if packed.size:
        scales = np.frombuffer(b"".join(rows[i][1][:4] for i in packed), dtype="<f4")
        codes = b"".join(zlib.decompressobj().decompress(rows[i][1][4:]) for i in packed)
        values = np.frombuffer(codes, dtype=np.int8).reshape(len(packed), dim) * scales[:, None]
        norms = np.linalg.norm(values, axis=1, keepdims=True)
        vectors[packed] = values / np.maximum(norms, 1e-12)
    return ids, vectors
