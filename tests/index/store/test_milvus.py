"""Milvus engine specifics on real milvus-lite: repair at open, generations, index types."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from index.store.frame_store import FrameStore
from index.store.milvus import MilvusBackend
from tests.index.storekit import clustered, frames, source

DIM = 16
A = clustered(30, DIM, 6, seed=1)
B = clustered(20, DIM, 5, seed=2)


def backend(tmp_path: Path, **kwargs) -> MilvusBackend:
    return MilvusBackend(str(tmp_path / "milvus" / "milvus.db"), collection="frames", **kwargs)


def open_store(tmp_path: Path, **kwargs) -> FrameStore:
    return FrameStore.open(
        tmp_path / "data", dim=DIM, model_name="m", backend=backend(tmp_path, **kwargs)
    )


def test_frames_missing_from_milvus_are_added_back_at_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with open_store(tmp_path) as store:
        store.add(source("Alpha", "a"), frames(30, "a"), A)
        beta = store.add(source("Beta", "b"), frames(20, "b"), B)
    # The catalog committed Beta, Milvus lost it (a crash between the two writes).
    lost = backend(tmp_path)
    lost._client.delete("frames_g0", ids=list(range(31, 51)))
    lost.close()
    with caplog.at_level(logging.WARNING), open_store(tmp_path) as store:
        assert store.stats().extra["index_live"] == 50
        assert {row[0].title_id for row in store.search(B, 1)} == {beta.title_id}
    assert "added 20 frames missing" in caplog.text


def test_ids_the_catalog_does_not_know_are_deleted_at_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with open_store(tmp_path) as store:
        store.add(source("Alpha", "a"), frames(30, "a"), A)
    stray = backend(tmp_path)
    stray._client.insert("frames_g0", [{"id": 999, "vector": B[0]}])
    stray.close()
    with caplog.at_level(logging.WARNING), open_store(tmp_path) as store:
        assert store.stats().extra["index_live"] == 30
        assert all(hit.frame_id != 999 for hit in store.search(B[:1], 30)[0])
    assert "deleted 1 frames no longer in the catalog" in caplog.text


def test_a_leftover_generation_is_dropped_at_open(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        store.add(source("Alpha", "a"), frames(30, "a"), A)
    other = backend(tmp_path)
    other._create("frames_g7", DIM)  # as an interrupted re-embed would leave it
    other.close()
    with open_store(tmp_path) as store:
        assert store.search(A[:1], 1)[0][0].title == "Alpha"
    left = backend(tmp_path)
    assert left._ours() == ["frames_g0"]
    left.close()


def test_removed_titles_leave_search_at_once(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        store.add(source("Alpha", "a"), frames(30, "a"), A)
        beta = store.add(source("Beta", "b"), frames(20, "b"), B)
        assert store.remove_title(beta.title_id)
        assert store.stats().extra["index_live"] == 30
        assert {row[0].title for row in store.search(B, 1)} == {"Alpha"}


@pytest.mark.parametrize(
    ("index_type", "index_params", "search_params"),
    [("FLAT", {}, {}), ("IVF_FLAT", {"nlist": 8}, {"nprobe": 8})],
)
def test_index_type_and_parameters_are_settings(
    tmp_path: Path, index_type: str, index_params: dict, search_params: dict
) -> None:
    with open_store(
        tmp_path, index_type=index_type, index_params=index_params, search_params=search_params
    ) as store:
        store.add(source("Alpha", "a"), frames(30, "a"), A)
        store.add(source("Beta", "b"), frames(20, "b"), B)
        hits = store.search(np.vstack([A, B]), 1)
        assert [row[0].title for row in hits] == ["Alpha"] * 30 + ["Beta"] * 20
        info = store._backend._client.describe_index("frames_g0", "vector")
        assert info["index_type"] == index_type


def test_read_only_open_writes_nothing_to_milvus(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        store.add(source("Alpha", "a"), frames(30, "a"), A)
    stray = backend(tmp_path)
    stray._client.delete("frames_g0", ids=[1])  # a difference a repair would fix
    stray.close()
    with FrameStore.open(
        tmp_path / "data", dim=DIM, model_name="m", read_only=True, backend=backend(tmp_path)
    ) as store:
        assert store.stats().extra["index_live"] == 29
    with open_store(tmp_path) as store:  # the writer repairs it
        assert store.stats().extra["index_live"] == 30


def test_a_released_collection_is_loaded_again_at_open(tmp_path: Path) -> None:
    """After a restart milvus-lite holds the collection released: searching it would fail."""
    with open_store(tmp_path) as store:
        alpha = store.add(source("Alpha", "a"), frames(30, "a"), A)
    restarted = backend(tmp_path)
    restarted._client.release_collection("frames_g0")
    restarted.close()
    with FrameStore.open(
        tmp_path / "data", dim=DIM, model_name="m", read_only=True, backend=backend(tmp_path)
    ) as store:
        assert {row[0].title_id for row in store.search(A, 1)} == {alpha.title_id}
    released = backend(tmp_path)
    released._client.release_collection("frames_g0")
    released.close()
    with open_store(tmp_path) as store:
        assert {row[0].title_id for row in store.search(A, 1)} == {alpha.title_id}


def test_bad_collection_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="collection name"):
        MilvusBackend(str(tmp_path / "m.db"), collection="frames; drop")


def test_read_only_open_before_any_collection_reads_the_catalog(tmp_path: Path) -> None:
    with FrameStore.open(tmp_path / "data", dim=DIM, model_name="m") as store:  # hnswlib
        store.add(source("Alpha", "a"), frames(30, "a"), A)
    with FrameStore.open(
        tmp_path / "data", dim=DIM, model_name="m", read_only=True, backend=backend(tmp_path)
    ) as store:
        assert [t.name for t in store.titles()] == ["Alpha"]
        assert store.search(A[:1], 5) == [[]]
    left = backend(tmp_path)
    assert left._ours() == []  # the reader created nothing
    left.close()


def test_a_query_milvus_answers_with_no_rows_is_asked_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An engine with live rows always has a nearest one: an empty row is asked again once."""
    with open_store(tmp_path) as store:
        store.add(source("Alpha", "a"), frames(30, "a"), A)
        client = store._backend._client
        real_search, answers = client.search, []

        def first_answer_loses_a_row(*args, **kwargs):  # the engine's transient, once
            rows = list(real_search(*args, **kwargs))
            answers.append(len(kwargs["data"]))
            return [[], *rows[1:]] if len(answers) == 1 else rows

        client.search = first_answer_loses_a_row
        with caplog.at_level(logging.WARNING):
            rows = store.search(A[[3, 7]], 5)
    assert answers == [2, 1]  # the whole batch, then the lost query alone
    assert [row[0].timestamp for row in rows] == [3.0, 7.0]
    assert "no rows: retrying" in caplog.text
