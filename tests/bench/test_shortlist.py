"""bench/shortlist.py: its exact search and filler, then a tiny run end to end on real footage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.config import Settings
from bench import shortlist


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_top_rows_streamed_in_blocks_match_a_full_sort() -> None:
    rng = np.random.default_rng(5)
    catalog, queries = _unit(rng.normal(size=(45_000, 16))), _unit(rng.normal(size=(7, 16)))
    rows, sims = shortlist.top_rows(catalog, queries, 30)
    expected = np.argsort(-(queries @ catalog.T), axis=1)[:, :30]
    assert np.array_equal(rows, expected)
    assert np.allclose(sims, np.take_along_axis(queries @ catalog.T, expected, axis=1))


def test_filler_is_unit_shots_near_real_vectors_and_the_same_every_time() -> None:
    origins = _unit(np.random.default_rng(6).normal(size=(20, 64)))
    first, again = shortlist.filler(origins, 2500), shortlist.filler(origins, 2500)
    assert first.shape == (2500, 64) and np.array_equal(first, again)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    # frames of a shot are near-identical; shots come from the real vectors, noisy or mixed
    assert float(first[0] @ first[1]) > 0.9
    assert (first @ origins.T).max(axis=1).min() > 0.2


@pytest.mark.slow
def test_tiny_run_measures_each_projection(tmp_path: Path, model_cache_dir: Path, capsys) -> None:
    argv = "--filler 1000 --queries 1 --generated 12 --store --fit bunnyfit:24 --cache-dir "
    argv += f"{model_cache_dir} --cache {tmp_path / 'embeddings.npz'}"
    results = shortlist.main(argv.split())
    assert (tmp_path / "embeddings.npz").is_file()
    shipped_name = f"shipped ({Settings.model_fields['index_dims'].default} dims)"
    assert set(results) == {"full (index_dims 0)", shipped_name, "fit bunnyfit:24"}
    for name, rows in results.items():
        assert set(rows) == {f"{g} {r}" for g in shortlist.GROUPS for r in ("exact", "store")}
        for row in rows.values():
            recall = [row[f"{factor}k"] for factor in shortlist.FACTORS]
            assert recall == sorted(recall) and 0 < recall[0] and recall[-1] <= 1, (name, row)
    # The full-dimension index only approximates exact search; re-scored lists are exact.
    full = results["full (index_dims 0)"]
    assert all(full[f"{g} exact"]["1k"] == 1.0 for g in shortlist.GROUPS)
    assert all(full[f"{g} store"]["8k"] >= 0.95 for g in shortlist.GROUPS)
    # A projection fitted on 66 frames of one clip keeps less than the shipped one.
    shipped, small = results[shipped_name], results["fit bunnyfit:24"]
    assert shipped["photo exact"]["4k"] > small["photo exact"]["4k"]
    assert "own@1" in capsys.readouterr().out
