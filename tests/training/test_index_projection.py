"""The index projection of a model: fitted once on fixed generated frames, then cached."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.index_projection import reference_frames, reference_projection


def test_the_reference_set_is_the_same_every_time() -> None:
    first, again = next(reference_frames()), next(reference_frames())
    assert np.array_equal(np.asarray(first), np.asarray(again))
    assert sum(1 for _ in zip(range(400), reference_frames(), strict=False)) == 320


@pytest.mark.slow
def test_a_model_projection_is_fitted_once_then_read(lite0_embedder, model_cache_dir: Path) -> None:
    made = reference_projection(lite0_embedder, model_cache_dir, 128)
    assert made is not None and (made.in_dim, made.out_dim) == (1280, 128)
    # Named by the weights' hash, so two models that share a name never share a projection.
    assert lite0_embedder.cache_key and lite0_embedder.cache_key.startswith("efficientnet-lite0")
    assert list(model_cache_dir.glob(f"projection-{lite0_embedder.cache_key}-128-v*.npy"))
    again = reference_projection(lite0_embedder, model_cache_dir, 128)
    assert again is not None and again.digest == made.digest
    # Lite0 frames keep most of their length inside it: it was fitted on their kind.
    frames = list(reference_frames())[:8]
    vectors = lite0_embedder.embed(frames)
    assert np.linalg.norm(vectors @ made.basis, axis=1).min() > 0.8
    for dims in (0, 1280, 2048):  # nothing to reduce
        assert reference_projection(lite0_embedder, model_cache_dir, dims) is None
