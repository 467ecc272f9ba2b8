"""bench/scenes.py at its smallest: a generated episode, the held shot and the bunny clip."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.scenes import main


@pytest.mark.slow
def test_tiny_run_tallies_every_drop_level(model_cache_dir: Path) -> None:
    argv = "--drops 0.0,0.02 --titles 1 --seconds 4 --step 1.0 --static 1.5"
    tallies = main([*argv.split(), "--cache-dir", str(model_cache_dir)])
    assert set(tallies) == {0.0, 0.02}
    for tally in tallies.values():
        assert tally.total > 0 and tally.static_total > 0
        assert 0 < tally.passed <= tally.total  # most queries lie inside their answered scene
