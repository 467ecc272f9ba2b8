"""Rows of the catalog as the store's types, the SQL they come from, and paging helpers,
shared by the catalog's reads (`catalog`) and its write transaction (`catalog_tx`)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

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
