"""Store tests run once per vector engine: embedded hnswlib, and Milvus through milvus-lite.

A module opts in with `pytestmark = pytest.mark.usefixtures("vector_backend")`; a test about
hnswlib's own checkpoint files is marked `hnswlib_only`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from index.store import frame_store


@pytest.fixture(params=["hnswlib", "milvus"])
def vector_backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Which engine `FrameStore.open` builds when it is given none (one Milvus URI per test)."""
    if request.param == "milvus":
        if request.node.get_closest_marker("hnswlib_only"):
            pytest.skip("about hnswlib's checkpoint files")
        from index.store.milvus import MilvusBackend

        uri = str(tmp_path / "milvus" / "milvus.db")
        monkeypatch.setattr(
            frame_store, "default_backend", lambda *_: MilvusBackend(uri, collection="frames")
        )
    return request.param
