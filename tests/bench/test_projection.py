"""bench/projection.py runs end to end on a tiny embeddings cache and reports both heads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import projection
from index.query.colour import COLOUR_DIM


@pytest.mark.slow
def test_projection_bench_reports_both(tmp_path: Path) -> None:
    # 5 titles (3 catalogued), 3 episodes, 8 frames each, every frame also "perturbed".
    grid = [(t, e, p) for t in range(5) for e in (1, 2, 3) for _ in range(8) for p in (0, 1)]
    rows = np.array(grid)
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(5, 32))[rows[:, 0]] + 0.5 * rng.normal(size=(len(rows), 32))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    colours = rng.normal(size=(5, COLOUR_DIM))[rows[:, 0]]  # histograms are COLOUR_DIM wide
    colours = np.abs(colours + 0.5 * rng.normal(size=(len(rows), COLOUR_DIM)))
    np.savez(tmp_path / "cache.npz", vectors=vectors, colours=colours, rows=rows, ms=1.0)
    cache = str(tmp_path / "cache.npz")
    results = projection.main(["--cache", cache, "--known", "3", "--steps", "20"])
    assert set(results) == {"pretrained", "trained projection"}
    for result in results.values():
        assert result["top1"] > 1 / 3  # better than chance among 3 catalogued titles
        assert 0.0 <= result["right"] + result["wrong"] <= 1.0
        assert 0.0 <= result["unknown_titles_unknown"] <= 1.0
