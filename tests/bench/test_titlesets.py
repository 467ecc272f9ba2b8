"""bench/titlesets.py: title sets embedded once and cached per set, and the splits over them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.titlesets import main, title_splits


@pytest.mark.slow
def test_a_second_title_set_is_cached_beside_the_first_and_numbered_on(
    tmp_path: Path, model_cache_dir: Path
) -> None:
    cache = tmp_path / "vectors.npz"
    argv = f"--titles 3 --episodes 2 --seconds 4 --cache-dir {model_cache_dir} --cache {cache}"
    vectors, palettes, rows, _, _ = main(f"{argv} --seed 11".split())
    first = cache.read_bytes()
    assert len(vectors) == len(palettes) == len(rows) == 3 * 2 * (4 + 2)  # 4 frames, 2 queries
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)

    both = main(f"{argv} --seed 11 12".split())
    assert cache.read_bytes() == first  # the first set is read back, not embedded again
    assert (tmp_path / "vectors-seed12.npz").stat().st_size > 0
    assert np.array_equal(both[0][: len(vectors)], vectors)
    assert sorted(set(both[2][:, 0].tolist())) == list(range(6))  # the second set's titles 3-5
    assert not np.array_equal(both[0][len(vectors) :], vectors)  # other titles, other vectors


def test_splits_hold_every_title_out_once_beside_disjoint_catalogues() -> None:
    splits = title_splits(40, 12, 4)
    unknown = np.concatenate([out for _, out in splits])
    assert sorted(unknown.tolist()) == list(range(40))
    for known, out in splits:
        assert len(known) == 12 and not set(known.tolist()) & set(out.tolist())
    ((known, out),) = title_splits(20, 12, 1)  # the bench before 14:40: first 12 catalogued
    assert known.tolist() == list(range(12)) and out.tolist() == list(range(12, 20))
    with pytest.raises(SystemExit):
        title_splits(10, 8, 2)  # 5 unknown titles a split do not fit beside 8 known
