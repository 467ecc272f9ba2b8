"""bench/titlehead.py at its smallest: every head over leave-episode-out folds, and its cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.titlehead import main


@pytest.mark.slow
def test_tiny_run_scores_every_head_and_reuses_its_cache(
    tmp_path: Path, model_cache_dir: Path
) -> None:
    cache = tmp_path / "vectors.npz"
    argv = f"--known 3 --unknown 2 --episodes 3 --seconds 4 --cache {cache}"
    argv += f" --cache-dir {model_cache_dir}"
    results = main(argv.split())
    heads = {"centroid", "frame vote", "softmax (embedding)", "titlehead (embedding + colour)"}
    assert set(results) == heads | {"sklearn logistic"}
    for scores in results.values():
        assert all(0 <= value <= 1 for value in scores.values())
        assert scores["right"] + scores["wrong"] <= 1
    assert cache.stat().st_size > 0
    assert main(argv.split()) == results  # the second run reads the same vectors back
