"""bench/sampling.py at its smallest: one generated episode, the held shot and the bunny clip."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.sampling import main


@pytest.mark.slow
def test_tiny_run_scores_the_old_and_the_shot_aware_samplers(model_cache_dir: Path) -> None:
    argv = "--changes 3 --titles 1 --seconds 4 --static 1.5"
    results = main([*argv.split(), "--cache-dir", str(model_cache_dir)])
    before, after = "fixed 2 fps + drop (before)", "grey 16x9, change 3"
    assert set(results) == {before, after, f"{after}, first frame", "grey 32x18, change 3"}
    for kept, exact, merged in results.values():
        assert kept > 0 and 0 < exact <= 1 and 0 < merged <= 1
    assert results[after][0] < results[before][0]
