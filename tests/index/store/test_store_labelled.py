"""FrameStore.iter_labelled_frames: every frame once, with its labels, in bounded batches."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from index.errors import InvalidInputError, StoreClosedError
from index.store.frame_store import FrameStore
from index.types import LabelledFrame
from tests.index.storekit import clustered, frames, source

pytestmark = pytest.mark.usefixtures("vector_backend")

DIM = 16


@pytest.fixture
def store(tmp_path: Path):
    opened = FrameStore.open(tmp_path / "data", dim=DIM, model_name="test-model")
    yield opened
    opened.close()


def _add(store: FrameStore, title: str, key: str, count: int, episode: str | None, seed: int):
    added = frames(count, key, start=5.0)
    result = store.add(source(title, key, episode), added, clustered(count, DIM, 3, seed))
    return result, added


def test_yields_every_frame_once_with_title_source_episode_and_thumbnail(
    store: FrameStore,
) -> None:
    a1, a1_frames = _add(store, "Frieren", "fr-1", 7, "1", 0)
    a2, a2_frames = _add(store, "Frieren", "fr-2", 5, "2", 1)
    b, b_frames = _add(store, "Bocchi", "bo-x", 4, None, 2)
    batches = list(store.iter_labelled_frames(batch=3))
    assert [len(batch) for batch in batches] == [3, 3, 3, 3, 3, 1]
    flat = [frame for batch in batches for frame in batch]
    assert all(isinstance(frame, LabelledFrame) for frame in flat)
    ids = [frame.frame_id for frame in flat]
    assert ids == sorted(ids) and len(set(ids)) == 16
    expected = (
        [("Frieren", a1.title_id, a1.source_id, "1", f) for f in a1_frames]
        + [("Frieren", a2.title_id, a2.source_id, "2", f) for f in a2_frames]
        + [("Bocchi", b.title_id, b.source_id, None, f) for f in b_frames]
    )
    for got, (title, title_id, source_id, episode, record) in zip(flat, expected, strict=True):
        assert (got.title, got.title_id, got.source_id, got.episode) == (
            title,
            title_id,
            source_id,
            episode,
        )
        assert got.timestamp == record.timestamp
        assert got.thumbnail == record.thumbnail
        assert store.thumbnail(got.frame_id) == got.thumbnail
    assert "thumbnail" not in repr(flat[0])  # bytes stay out of logs


def test_removed_titles_are_gone_and_empty_store_yields_nothing(store: FrameStore) -> None:
    assert list(store.iter_labelled_frames()) == []
    gone, _ = _add(store, "Gone", "g-1", 3, "1", 0)
    _add(store, "Kept", "k-1", 2, "1", 1)
    store.remove_title(gone.title_id)
    titles = {frame.title for batch in store.iter_labelled_frames(10) for frame in batch}
    assert titles == {"Kept"}


def test_iterating_does_not_block_writers(store: FrameStore) -> None:
    """A paused consumer holds no read transaction or lock: an add from another thread
    completes while the iterator is suspended between batches."""
    _add(store, "A", "a-1", 6, "1", 0)
    pages = store.iter_labelled_frames(batch=2)
    first = next(pages)
    done = threading.Event()

    def writer() -> None:
        _add(store, "B", "b-1", 3, "1", 1)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    assert done.wait(timeout=20), "an add waited on a suspended labelled-frame iterator"
    thread.join()
    rest = [frame for batch in pages for frame in batch]
    assert len(first) + len(rest) == 9  # later pages see the commit made in between
    assert {frame.title for frame in rest} == {"A", "B"}


def test_bad_batch_and_closed_store_are_clear_errors(tmp_path: Path) -> None:
    store = FrameStore.open(tmp_path / "d", dim=DIM, model_name="m")
    with pytest.raises(InvalidInputError, match="batch"):
        store.iter_labelled_frames(batch=0)
    with pytest.raises(InvalidInputError, match="batch"):
        store.iter_labelled_frames(batch=True)
    store.add(source("T", "t"), frames(2, "t"), np.eye(2, DIM, dtype=np.float32))
    pages = store.iter_labelled_frames(batch=1)
    next(pages)
    store.close()
    with pytest.raises(StoreClosedError):
        next(pages)
    with pytest.raises(StoreClosedError):
        store.iter_labelled_frames()
