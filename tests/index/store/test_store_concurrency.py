"""Searches from many threads while another thread adds and removes titles."""

from __future__ import annotations

import threading
import traceback
from pathlib import Path

import numpy as np
import pytest

from index.store.frame_store import FrameStore
from tests.index.storekit import clustered, frames, source

pytestmark = pytest.mark.usefixtures("vector_backend")

DIM = 32


def test_readers_during_writes_see_consistent_results(tmp_path: Path) -> None:
    store = FrameStore.open(tmp_path, dim=DIM, model_name="m", checkpoint_min_changes=100)
    stable = clustered(80, DIM, 20, seed=0)
    stable_result = store.add(source("Stable", "stable"), frames(80, "stable"), stable)
    batches = [clustered(30, DIM, 8, seed=100 + i) for i in range(12)]
    source_titles: dict[int, str] = {stable_result.source_id: "Stable"}
    errors: list[BaseException] = []
    writing = threading.Event()
    writing.set()

    def writer() -> None:
        try:
            for i, data in enumerate(batches):
                name = f"Title {i % 4}"
                added = store.add(source(name, f"w{i}"), frames(30, f"w{i}"), data)
                source_titles[added.source_id] = name
                if i % 5 == 4:
                    victim = store.find_title(f"Title {(i - 2) % 4}")
                    if victim is not None:
                        store.remove_title(victim.id)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            writing.clear()

    searches = [0]

    def reader(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            while writing.is_set() or searches[0] < 40:
                picks = rng.integers(0, len(stable), size=4)
                for row, pick in zip(store.search(stable[picks], 10), picks, strict=True):
                    # the untouched title always answers its own frames first
                    assert row[0].title == "Stable" and row[0].timestamp == float(pick)
                    similarities = [hit.similarity for hit in row]
                    assert similarities == sorted(similarities, reverse=True)
                    assert len({hit.frame_id for hit in row}) == len(row)
                    for hit in row:
                        assert hit.title == source_titles.get(hit.source_id, hit.title)
                store.search(clustered(2, DIM, 2, seed=int(pick)), 50)
                searches[0] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(s,)) for s in range(4)]
    threads.append(threading.Thread(target=writer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    # the whole traceback: a failure on one backend under load must say where it came from
    assert not errors, "".join(traceback.format_exception(errors[0]))
    assert searches[0] >= 40

    stats = store.stats()
    assert stats.extra["index_live"] == stats.frames
    final = [[h.frame_id for h in row] for row in store.search(np.vstack(batches), 5)]
    store.close()
    with FrameStore.open(tmp_path, dim=DIM, model_name="m") as reopened:
        assert reopened.stats().frames == stats.frames
        assert [
            [h.frame_id for h in row] for row in reopened.search(np.vstack(batches), 5)
        ] == final
