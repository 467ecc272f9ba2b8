"""Reopen, checkpoints and crash safety: the catalog wins and the index is repaired at open."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from index.errors import ModelMismatchError, StoreError
from index.store.catalog_tx import CatalogTx
from index.store.checkpoint import INDEX_FILE, META_FILE
from index.store.frame_store import FrameStore
from tests.index.storekit import clustered, frames, source

pytestmark = pytest.mark.usefixtures("vector_backend")

DIM = 24
REPO = Path(__file__).resolve().parents[3]
A = clustered(60, DIM, 15, seed=1)
B = clustered(40, DIM, 10, seed=2)


def open_store(path: Path, **kwargs) -> FrameStore:
    return FrameStore.open(path, dim=DIM, model_name="m", **kwargs)


def fill(store: FrameStore) -> None:
    store.add(source("Alpha", "a"), frames(60, "a"), A)
    store.add(source("Beta", "b"), frames(40, "b"), B)


def answers(store: FrameStore, queries: np.ndarray, k: int = 5) -> list[list[tuple[int, float]]]:
    return [[(h.frame_id, round(h.similarity, 4)) for h in row] for row in store.search(queries, k)]


def titles_found(store: FrameStore, queries: np.ndarray) -> set[str]:
    return {row[0].title for row in store.search(queries, 1)}


def crash_after(path: Path, body: str) -> None:
    """Run `body` against an open store in a child process that dies without closing it."""
    script = (
        textwrap.dedent(
            f"""
        import os
        import numpy as np
        from index.store.frame_store import FrameStore
        from tests.index.storekit import clustered, frames, source
        A = clustered(60, {DIM}, 15, seed=1)
        B = clustered(40, {DIM}, 10, seed=2)
        store = FrameStore.open({str(path)!r}, dim={DIM}, model_name="m",
                                checkpoint_min_changes=10**9)
        """
        )
        + textwrap.dedent(body)
        + "\nos._exit(0)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, check=True, timeout=120)


def checkpoint_count(path: Path) -> int:
    return json.loads((path / META_FILE).read_text())["count"]


def test_reopen_gives_identical_results(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        fill(store)
        before = answers(store, np.vstack([A, B]))
    with open_store(tmp_path) as store:
        assert answers(store, np.vstack([A, B])) == before
        assert store.stats().extra["unsaved_changes"] == 0


@pytest.mark.hnswlib_only
def test_ef_is_applied_after_load_without_rebuild(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with open_store(tmp_path, ef=128) as store:
        fill(store)
    with caplog.at_level(logging.INFO), open_store(tmp_path, ef=40) as store:
        assert store.stats().extra["ef"] == 40
    assert "rebuil" not in caplog.text and "repaired" not in caplog.text


@pytest.mark.hnswlib_only
def test_checkpoint_is_written_once_enough_changed(tmp_path: Path) -> None:
    with open_store(tmp_path, checkpoint_min_changes=50) as store:
        store.add(source("Alpha", "a"), frames(60, "a"), A)
        assert checkpoint_count(tmp_path) == 60
        store.add(source("Beta", "b"), frames(40, "b"), B)
        assert checkpoint_count(tmp_path) == 60  # 40 < 50: not yet
        assert store.stats().extra["unsaved_changes"] == 40


@pytest.mark.hnswlib_only
def test_crash_after_add_commit_repairs_stale_checkpoint(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    crash_after(
        tmp_path,
        """
        store.add(source("Alpha", "a"), frames(60, "a"), A)
        store.save()
        store.add(source("Beta", "b"), frames(40, "b"), B)
        """,
    )
    assert checkpoint_count(tmp_path) == 60
    with caplog.at_level(logging.WARNING), open_store(tmp_path) as store:
        assert titles_found(store, B) == {"Beta"}
        assert store.stats().extra["index_live"] == 100
    assert "added 40 frames missing" in caplog.text
    assert checkpoint_count(tmp_path) == 100  # the repair was checkpointed


@pytest.mark.hnswlib_only
def test_crash_after_remove_commit_drops_stale_labels(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    crash_after(
        tmp_path,
        """
        store.add(source("Alpha", "a"), frames(60, "a"), A)
        beta = store.add(source("Beta", "b"), frames(40, "b"), B)
        store.save()
        store.remove_title(beta.title_id)
        """,
    )
    assert checkpoint_count(tmp_path) == 100
    with caplog.at_level(logging.WARNING), open_store(tmp_path) as store:
        assert titles_found(store, B) == {"Alpha"}
        assert store.stats().extra["index_live"] == 60
    assert "deleted 40 frames no longer in the catalog" in caplog.text


@pytest.mark.hnswlib_only
def test_crash_before_any_checkpoint_rebuilds(tmp_path: Path) -> None:
    crash_after(tmp_path, 'store.add(source("Alpha", "a"), frames(60, "a"), A)')
    with open_store(tmp_path) as store:
        assert titles_found(store, A) == {"Alpha"}
        assert store.stats().extra["index_live"] == 60


@pytest.mark.hnswlib_only
@pytest.mark.parametrize("damage", ["flip", "truncate", "delete_bin", "delete_meta", "bad_json"])
def test_damaged_checkpoint_is_rebuilt_from_catalog(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    with open_store(tmp_path) as store:
        fill(store)
        expected = [row[0].frame_id for row in store.search(np.vstack([A, B]), 1)]
    bin_path, meta_path = tmp_path / INDEX_FILE, tmp_path / META_FILE
    if damage == "flip":
        raw = bytearray(bin_path.read_bytes())
        raw[len(raw) // 2 : len(raw) // 2 + 64] = os.urandom(64)
        bin_path.write_bytes(bytes(raw))
    elif damage == "truncate":
        bin_path.write_bytes(bin_path.read_bytes()[:1000])
    elif damage == "delete_bin":
        bin_path.unlink()
    elif damage == "delete_meta":
        meta_path.unlink()
    else:
        meta_path.write_text("{not json")
    with caplog.at_level(logging.WARNING), open_store(tmp_path) as store:
        assert [row[0].frame_id for row in store.search(np.vstack([A, B]), 1)] == expected
    assert "rebuilding the index from the catalog (100 frames)" in caplog.text


@pytest.mark.hnswlib_only
def test_crash_between_bin_and_json_rename_is_detected(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        store.add(source("Alpha", "a"), frames(60, "a"), A)
        store.save()
        old_meta = (tmp_path / META_FILE).read_bytes()
        store.add(source("Beta", "b"), frames(40, "b"), B)
    # new index.bin in place, old index.json still there: as if killed between the renames
    (tmp_path / META_FILE).write_bytes(old_meta)
    with open_store(tmp_path) as store:
        assert titles_found(store, B) == {"Beta"} and titles_found(store, A) == {"Alpha"}


def test_add_failing_after_hnswlib_insert_rolls_back_both_sides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(tmp_path)
    store.add(source("Alpha", "a"), frames(60, "a"), A)
    before = answers(store, A)

    def disk_failure(self: CatalogTx, title_id: int) -> int:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(CatalogTx, "title_frame_count", disk_failure)
    with pytest.raises(StoreError, match="nothing was added"):
        store.add(source("Beta", "b"), frames(40, "b"), B)
    monkeypatch.undo()
    assert [t.name for t in store.titles()] == ["Alpha"] and not store.has_source("b")
    assert store.stats().frames == 60 and store.stats().extra["index_live"] == 60
    assert titles_found(store, B) == {"Alpha"}
    assert answers(store, A) == before
    store.close()
    with open_store(tmp_path) as reopened:
        assert reopened.stats().extra["index_live"] == 60
        assert answers(reopened, A) == before
        again = reopened.add(source("Beta", "b"), frames(40, "b"), B)  # retry works
        assert again.frames_added == 40 and titles_found(reopened, B) == {"Beta"}


def test_add_failing_inside_the_index_leaves_previous_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(tmp_path) as store:
        store.add(source("Alpha", "a"), frames(60, "a"), A)
        vectors = store._state.vectors
        real_add = vectors.add

        def add_then_fail(labels: object, data: np.ndarray) -> None:
            real_add(labels, data)
            raise MemoryError("out of memory while growing the index")

        monkeypatch.setattr(vectors, "add", add_then_fail)
        with pytest.raises(MemoryError):
            store.add(source("Beta", "b"), frames(40, "b"), B)
        monkeypatch.undo()
        assert store.stats().frames == 60 and vectors.live_count == 60
        assert titles_found(store, B) == {"Alpha"}
        assert store.add(source("Beta", "b"), frames(40, "b"), B).frames_added == 40
        assert titles_found(store, B) == {"Beta"}


def test_other_model_or_dim_is_refused(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        fill(store)
    assert FrameStore.stored_model(tmp_path) == ("m", DIM)
    assert FrameStore.stored_model(tmp_path / "nothing") is None
    with pytest.raises(ModelMismatchError, match="index reembed.*another data dir"):
        FrameStore.open(tmp_path, dim=DIM, model_name="other")
    with pytest.raises(ModelMismatchError, match=r"dim 24.*dim 16") as info:
        FrameStore.open(tmp_path, dim=16, model_name="m")
    assert (info.value.stored_model, info.value.stored_dim) == ("m", DIM)
    with open_store(tmp_path) as store:  # a refused open changed nothing
        assert store.stats().frames == 100


@pytest.mark.hnswlib_only
def test_label_deleted_in_checkpoint_but_live_in_catalog_forces_rebuild(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with open_store(tmp_path) as store:
        fill(store)
        own_label = store.search(A[5:6], 1)[0][0].frame_id
        store._state.vectors.remove([own_label])  # index drifts from the catalog
        store.save()
    with caplog.at_level(logging.WARNING), open_store(tmp_path) as store:
        assert store.search(A[5:6], 1)[0][0].frame_id == own_label
        assert store.stats().extra["index_live"] == 100
    assert "deleted labels the catalog still uses" in caplog.text
