"""bench/embedder.py at one repeat: the served (LiteRT) and the Keras embedder side by side."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.embedder import main


@pytest.mark.slow
def test_one_repeat_times_every_stage(model_cache_dir: Path, capsys) -> None:
    result = main(["--repeats", "1", "--cache-dir", str(model_cache_dir)])
    assert result["worst_cosine"] >= 0.9999  # the served runtime gives Keras's vectors
    table = result["seconds_per_image"]
    assert set(table) == {1, 32}
    runs = {"prep", "litert total", "litert bare", "keras total", "keras bare"}
    for row in table.values():
        assert set(row) == runs and all(seconds > 0 for seconds in row.values())
    printed = capsys.readouterr().out
    assert "efficientnet-lite0: input 224px" in printed and "LiteRT" in printed
