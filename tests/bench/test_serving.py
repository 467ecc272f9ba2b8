"""bench/serving.py: install sizes, cold loads, and a cold `serve` answering without TensorFlow."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.serving import main


@pytest.mark.slow
def test_cold_serve_answers_and_maps_no_tensorflow(
    tmp_path: Path, model_cache_dir: Path, lite0_embedder
) -> None:
    """`lite0_embedder` first: the model is prepared in the cache, as the script expects."""
    out = tmp_path / "serving.json"
    results = main(["--cache-dir", str(model_cache_dir), "--out", str(out)])
    sizes = results["install_mb"]
    assert 0 < sizes["serving"] < sizes["with_tensorflow"]
    assert set(results["cold_load_s"]) == {"litert", "keras"}
    serve = results["serve"]
    assert serve["answer"] == serve["expected"]
    assert serve["server_mapped_tensorflow"] is not True  # None where /proc is missing
    assert out.stat().st_size > 0
