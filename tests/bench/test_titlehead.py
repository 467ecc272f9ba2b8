"""bench/titlehead.py at its smallest: every head over leave-episode-out folds, and its cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.titlehead import main, rate, title_interval


@pytest.mark.slow
def test_tiny_run_scores_every_head_and_reuses_its_cache(
    tmp_path: Path, model_cache_dir: Path
) -> None:
    cache = tmp_path / "vectors.npz"
    argv = f"--seed 11 --titles 5 --known 3 --splits 1 --episodes 3 --seconds 4 --cache {cache}"
    argv += f" --cache-dir {model_cache_dir} --heads all"
    results = main(argv.split())
    heads = {"centroid", "frame vote", "softmax (embedding)", "titlehead (embedding + colour)"}
    assert set(results) == heads | {"sklearn logistic"}
    for scores in results.values():
        assert all(0 <= value <= 1 for value in scores.values())
        assert scores["right"] + scores["wrong"] <= 1
    assert cache.stat().st_size > 0
    assert main(argv.split()) == results  # the second run reads the same vectors back


def test_a_rate_carries_its_wilson_interval_and_its_title_bootstrap() -> None:
    assert rate(np.array([0, 0]), np.array([80, 80])).startswith(
        "0.000 [0.000, 0.023] {0.000, 0.000}"
    )
    assert rate(np.array([152]), np.array([160])) == "0.950 [0.904, 0.974] {0.950, 0.950} (152/160)"


def test_the_title_bootstrap_widens_when_a_title_s_queries_move_together() -> None:
    n = np.full(10, 16)
    spread = title_interval(np.full(10, 8), n)  # every title half right: titles agree
    clustered = title_interval(np.array([16] * 5 + [0] * 5), n)  # same share, all or nothing
    assert spread == (0.5, 0.5)
    assert clustered[0] < 0.3 and clustered[1] > 0.7  # Wilson would say [0.42, 0.58] for both
    assert title_interval(np.array([16] * 5 + [0] * 5), n) == clustered  # fixed seed
    assert title_interval(np.array([3, 0]), np.array([4, 0])) == (0.75, 0.75)  # n 0 left out
