"""Re-embedding the catalog from stored thumbnails switches model, dim and index atomically."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from index.errors import InvalidInputError, ModelMismatchError, ReembedIncompleteError
from index.store.checkpoint import META_FILE
from index.store.frame_store import FrameStore
from tests.index.storekit import clustered, frames, source

pytestmark = pytest.mark.usefixtures("vector_backend")

OLD_DIM, NEW_DIM = 24, 16
REPO = Path(__file__).resolve().parents[3]


def pixel_embed(thumbnails: list[bytes]) -> np.ndarray:
    """A real if simple 'model': the 4x4 grey thumbnail, centred, as a 16-d vector."""
    rows = []
    for data in thumbnails:
        grey = Image.open(io.BytesIO(data)).convert("L").resize((4, 4), Image.BILINEAR)
        values = np.asarray(grey, dtype=np.float32).ravel()
        rows.append(values - values.mean() + 1e-3)
    return np.stack(rows)


@pytest.fixture
def filled(tmp_path: Path) -> tuple[Path, list]:
    records = {"a": frames(30, "a"), "b": frames(20, "b")}
    with FrameStore.open(tmp_path, dim=OLD_DIM, model_name="old") as store:
        store.add(source("Alpha", "a"), records["a"], clustered(30, OLD_DIM, 6, seed=1))
        store.add(source("Beta", "b"), records["b"], clustered(20, OLD_DIM, 5, seed=2))
    return tmp_path, records["a"] + records["b"]


def test_reembed_switches_model_and_finds_frames_by_new_vectors(
    filled: tuple[Path, list], vector_backend: str
) -> None:
    path, records = filled
    seen: list[tuple[int, int]] = []
    with FrameStore.open(path, dim=OLD_DIM, model_name="old") as store:
        count = store.reembed(
            pixel_embed,
            model_name="pixels",
            dim=NEW_DIM,
            batch=8,
            progress=lambda done, total: seen.append((done, total)),
        )
        assert count == 50 and seen[-1] == (50, 50)
        assert (store.model_name, store.dim) == ("pixels", NEW_DIM)
        hits = store.search(pixel_embed([r.thumbnail for r in records]), 1)
        assert [row[0].timestamp for row in hits] == [r.timestamp for r in records]
        assert [row[0].title for row in hits] == ["Alpha"] * 30 + ["Beta"] * 20
    assert FrameStore.stored_model(path) == ("pixels", NEW_DIM)
    if vector_backend == "hnswlib":
        assert json.loads((path / META_FILE).read_text())["dim"] == NEW_DIM
    with pytest.raises(ModelMismatchError):
        FrameStore.open(path, dim=OLD_DIM, model_name="old")
    with FrameStore.open(path, dim=NEW_DIM, model_name="pixels") as store:
        assert store.search(pixel_embed([records[3].thumbnail]), 1)[0][0].timestamp == 3.0


def test_incomplete_replacement_keeps_the_old_model(filled: tuple[Path, list]) -> None:
    path, records = filled
    with FrameStore.open(path, dim=OLD_DIM, model_name="old") as store:
        ids, thumbnails = next(store.iter_frames(10))
        with pytest.raises(ReembedIncompleteError, match="40 frames"):
            store.replace_vectors(
                [(ids, pixel_embed(thumbnails))], model_name="pixels", dim=NEW_DIM
            )
        with pytest.raises(InvalidInputError, match="shape"):
            store.replace_vectors([(ids, np.ones((len(ids), 3)))], model_name="pixels", dim=NEW_DIM)
        assert (store.model_name, store.dim) == ("old", OLD_DIM)
        query = clustered(30, OLD_DIM, 6, seed=1)[:1]
        assert store.search(query, 1)[0][0].title == "Alpha"
    assert FrameStore.stored_model(path) == ("old", OLD_DIM)


@pytest.mark.hnswlib_only
def test_crash_after_the_switch_rebuilds_the_index_for_the_new_model(
    filled: tuple[Path, list],
) -> None:
    path, records = filled
    script = textwrap.dedent(
        f"""
        import os
        import index.store.frame_store
        from index.store.frame_store import FrameStore
        from tests.index.store.test_store_reembed import pixel_embed
        # die right after the catalog switch commits, before the checkpoint is written
        index.store.frame_store.FrameStore.save = lambda self: os._exit(0)
        store = FrameStore.open({str(path)!r}, dim={OLD_DIM}, model_name="old")
        store.reembed(pixel_embed, model_name="pixels", dim={NEW_DIM})
        raise SystemExit("reembed returned without saving")
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, check=True, timeout=120)
    assert json.loads((path / META_FILE).read_text())["dim"] == OLD_DIM  # stale checkpoint
    with FrameStore.open(path, dim=NEW_DIM, model_name="pixels") as store:
        hits = store.search(pixel_embed([r.thumbnail for r in records]), 1)
        assert [row[0].timestamp for row in hits] == [r.timestamp for r in records]
