"""One writer per data dir (an OS lock), and read-only opens that never rewrite the index."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from index.errors import StoreError, StoreLockedError
from index.store.checkpoint import INDEX_FILE, META_FILE
from index.store.frame_store import FrameStore
from tests.index.storekit import clustered, frames, source

DIM = 24
REPO = Path(__file__).resolve().parents[3]


def open_store(path: Path, **kwargs) -> FrameStore:
    return FrameStore.open(path, dim=DIM, model_name="m", **kwargs)


def test_second_writer_is_refused_until_the_first_closes(tmp_path: Path) -> None:
    first = open_store(tmp_path)
    with pytest.raises(StoreLockedError, match="in use by another shazam-anime process"):
        open_store(tmp_path)
    first.close()
    open_store(tmp_path).close()


def test_lock_holds_across_processes_and_dies_with_its_holder(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, sys
        from index.store.frame_store import FrameStore
        store = FrameStore.open({str(tmp_path)!r}, dim={DIM}, model_name="m")
        print("open", flush=True)
        sys.stdin.readline()
        os._exit(0)  # no close: the kernel must drop the lock anyway
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "open"
        with pytest.raises(StoreLockedError):
            open_store(tmp_path)
        with open_store(tmp_path, read_only=True) as reader:  # readers are never refused
            assert reader.stats().frames == 0
    finally:
        child.communicate("\n", timeout=60)
    open_store(tmp_path).close()


def test_read_only_open_never_rewrites_a_stale_index(tmp_path: Path) -> None:
    writer = open_store(tmp_path, checkpoint_min_changes=10**9)
    writer.add(source("Alpha", "a"), frames(30, "a"), clustered(30, DIM, 5, seed=1))
    writer.save()
    # A server's unsaved add: the checkpoint on disk is now stale.
    writer.add(source("Beta", "b"), frames(20, "b"), clustered(20, DIM, 5, seed=2))
    before = {name: (tmp_path / name).read_bytes() for name in (INDEX_FILE, META_FILE)}

    with open_store(tmp_path, read_only=True) as reader:
        assert {title.name for title in reader.titles()} == {"Alpha", "Beta"}
        assert {row[0].title for row in reader.search(clustered(20, DIM, 5, seed=2), 1)} == {"Beta"}
        with pytest.raises(StoreError, match="read-only"):
            reader.remove_title(1)
    after = {name: (tmp_path / name).read_bytes() for name in (INDEX_FILE, META_FILE)}
    assert after == before
    writer.close()
