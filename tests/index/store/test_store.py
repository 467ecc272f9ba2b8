"""FrameStore API on real SQLite + hnswlib: add, search, idempotency, titles, removal, bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from index.errors import InvalidInputError, StoreClosedError
from index.store.frame_store import FrameStore
from index.store.vector_codec import quantized
from index.types import FrameRecord, SourceRecord
from tests.index.storekit import clustered, frames, jpeg, source, unit

pytestmark = pytest.mark.usefixtures("vector_backend")

DIM = 32


@pytest.fixture
def store(tmp_path: Path):
    opened = FrameStore.open(tmp_path / "data", dim=DIM, model_name="test-model")
    yield opened
    opened.close()


def vectors(n: int, seed: int) -> np.ndarray:
    return clustered(n, DIM, clusters=max(1, n // 4), seed=seed)


def test_search_on_empty_store_returns_empty_lists(store: FrameStore) -> None:
    assert store.search(vectors(3, 0), 5) == [[], [], []]
    assert store.search(np.empty((0, DIM), dtype=np.float32), 5) == []
    assert store.titles() == [] and store.stats().frames == 0


def test_add_then_search_finds_each_frame_first(store: FrameStore) -> None:
    data = vectors(40, 1)
    result = store.add(source("Frieren", "ep1", episode="1"), frames(40, "ep1", start=10), data)
    assert (result.source_id is not None, result.frames_added, result.frames_total) == (
        True,
        40,
        40,
    )
    hits = store.search(data, 3)
    for row, expected_ts in zip(hits, range(10, 50), strict=True):
        best = row[0]
        assert best.title == "Frieren" and best.episode == "1"
        assert best.timestamp == expected_ts and best.source_id == result.source_id
        assert math.isclose(best.similarity, 1.0, abs_tol=1e-3)  # stored as int8 with a scale
        assert [h.similarity for h in row] == sorted((h.similarity for h in row), reverse=True)


def test_similarity_is_one_minus_cosine_distance(store: FrameStore) -> None:
    data = vectors(10, 2)
    store.add(source("T", "s"), frames(10, "s"), data)
    query = unit(np.random.default_rng(3).normal(size=(1, DIM)))
    hits = store.search(query, 10)[0]
    expected = np.sort(quantized(data) @ query[0])[::-1]  # the vectors as the catalog keeps them
    assert np.allclose([h.similarity for h in hits], expected, atol=1e-5)
    assert np.allclose([h.similarity for h in hits], np.sort(data @ query[0])[::-1], atol=2e-3)


def test_k_beyond_the_frame_count_returns_all_frames(store: FrameStore) -> None:
    data = vectors(7, 4)
    store.add(source("T", "s"), frames(7, "s"), data)
    assert [len(row) for row in store.search(data[:2], 1000)] == [7, 7]


def test_add_is_idempotent_by_source_hash(store: FrameStore) -> None:
    data = vectors(5, 5)
    first = store.add(source("Frieren", "same"), frames(5, "same"), data)
    again = store.add(source("frieren", "same"), frames(5, "same"), data)
    assert (again.source_id, again.frames_added) == (None, 0)
    assert (again.title_id, again.frames_total) == (first.title_id, 5)
    assert store.has_source("same") and not store.has_source("other")
    assert store.stats().frames == 5 and store.stats().extra["index_live"] == 5


def test_duplicate_frames_within_a_source_are_skipped(store: FrameStore) -> None:
    records = frames(4, "dup")
    doubled = [*records, records[1], records[3]]
    data = vectors(6, 6)
    result = store.add(source("T", "dup"), doubled, data)
    assert result.frames_added == 4
    assert store.search(data[:4], 1)[1][0].timestamp == records[1].timestamp


def test_titles_match_case_insensitively(store: FrameStore) -> None:
    a = store.add(source("Sousou no Frieren", "a", "1"), frames(3, "a"), vectors(3, 7))
    b = store.add(source("SOUSOU NO FRIEREN", "b", "2"), frames(2, "b"), vectors(2, 8))
    c = store.add(source("Dungeon Meshi", "c", "1"), frames(4, "c"), vectors(4, 9))
    assert a.title_id == b.title_id != c.title_id
    assert b.frames_total == 5
    info = store.find_title("sousou no frieren")
    assert info is not None
    assert (info.name, info.frames, info.episodes, info.sources) == ("Sousou no Frieren", 5, 2, 2)
    assert store.title(c.title_id).name == "Dungeon Meshi"
    assert store.title(9999) is None and store.find_title("Unknown") is None
    assert [t.name for t in store.titles()] == ["Dungeon Meshi", "Sousou no Frieren"]


def test_remove_title_drops_its_frames_from_search_at_once(store: FrameStore) -> None:
    keep_data, gone_data = vectors(10, 10), vectors(10, 11)
    keep = store.add(source("Keep", "k"), frames(10, "k"), keep_data)
    gone = store.add(source("Gone", "g"), frames(10, "g"), gone_data)
    assert store.remove_title(gone.title_id) is True
    assert store.remove_title(gone.title_id) is False
    for row in store.search(gone_data, 20):
        assert row and {h.title_id for h in row} == {keep.title_id}
    assert not store.has_source("g")
    assert store.stats().extra["index_live"] == 10


def test_removing_the_last_title_leaves_a_usable_store(store: FrameStore) -> None:
    only = store.add(source("Only", "o"), frames(5, "o"), vectors(5, 12))
    assert store.remove_title(only.title_id)
    assert store.search(vectors(2, 13), 5) == [[], []]
    assert store.titles() == []
    again = store.add(source("Only", "o"), frames(5, "o"), vectors(5, 12))
    assert again.source_id is not None and again.frames_added == 5
    assert len(store.search(vectors(1, 12), 5)[0]) == 5


def test_thumbnail_round_trip(store: FrameStore) -> None:
    records = frames(3, "th")
    store.add(source("T", "th"), records, vectors(3, 14))
    hit = store.search(vectors(3, 14)[2:], 1)[0][0]
    assert store.thumbnail(hit.frame_id) == records[2].thumbnail
    assert store.thumbnail(123456) is None


@pytest.mark.parametrize(
    ("bad_vectors", "message"),
    [
        (np.full((2, DIM), np.nan, dtype=np.float32), "NaN"),
        (np.zeros((2, DIM), dtype=np.float32), "zero"),
        (np.ones((2, DIM + 1), dtype=np.float32), "shape"),
        (np.ones((3, DIM), dtype=np.float32), "shape"),
        ([["a"] * DIM] * 2, "float"),
    ],
)
def test_bad_vectors_are_refused_without_change(
    store: FrameStore, bad_vectors: object, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        store.add(source("T", "bad"), frames(2, "bad"), bad_vectors)
    assert store.titles() == [] and not store.has_source("bad")


def test_bad_records_and_arguments_are_refused(store: FrameStore) -> None:
    data = vectors(1, 15)
    good_frame = FrameRecord(timestamp=1.0, content_hash="h", thumbnail=jpeg(1))
    cases = [
        (source("   ", "x"), [good_frame], "title"),
        (SourceRecord("T", "film", "u", "x"), [good_frame], "kind"),  # type: ignore[arg-type]
        (source("T", ""), [good_frame], "content_hash"),
        (source("T", "x"), [], "no frames"),
        (source("T", "x"), [FrameRecord(1.0, "h", b"")], "thumbnail"),
        (source("T", "x"), [FrameRecord(math.inf, "h", jpeg(1))], "timestamp"),
        (source("T", "x"), [FrameRecord(1.0, "h", jpeg(1), colour=b"\x01" * 7)], "colour"),
    ]
    for src, records, message in cases:
        with pytest.raises(InvalidInputError, match=message):
            store.add(src, records, data[: len(records)] if records else data[:0])
    with pytest.raises(InvalidInputError, match="k must be"):
        store.search(data, 0)
    with pytest.raises(InvalidInputError, match="shape"):
        store.search(data[0], 3)
    with pytest.raises(InvalidInputError, match="integer id"):
        store.remove_title("1")  # type: ignore[arg-type]
    assert store.titles() == []


def test_closed_store_refuses_calls(tmp_path: Path) -> None:
    opened = FrameStore.open(tmp_path, dim=DIM, model_name="m")
    opened.close()
    opened.close()  # idempotent
    with pytest.raises(StoreClosedError):
        opened.search(vectors(1, 16), 1)


def test_open_rejects_bad_parameters(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="dim"):
        FrameStore.open(tmp_path, dim=0, model_name="m")
    with pytest.raises(InvalidInputError, match="model_name"):
        FrameStore.open(tmp_path, dim=8, model_name=" ")
