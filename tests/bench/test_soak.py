"""A tiny run of the soak benchmark: a real server under identify clients and a writer."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.soak import run


@pytest.mark.slow
def test_short_soak_has_no_errors_and_no_wrong_answers(model_cache_dir: Path) -> None:
    result = run(seconds=8, clients=2, cache_dir=model_cache_dir)
    assert result["errors"] == 0, result["first_errors"]
    assert result["wrong"] == 0
    assert result["identifies"] > 0 and result["writes"] > 0
    assert result["rss_end_mb"] > 0
