"""bench/api.py on a tiny catalog: real server, real identify calls, latency and throughput."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.api import main


@pytest.mark.slow
def test_tiny_catalog_is_benchmarked_over_http(tmp_path: Path, model_cache_dir: Path) -> None:
    argv = f"--frames 200 --queries 4 --seconds 0.5 --data-dir {tmp_path} "
    argv += f"--cache-dir {model_cache_dir} --out {tmp_path / 'api.json'}"
    results = main(argv.split())
    catalog = results["catalog"]
    assert catalog["frames"] >= 200 and catalog["titles"] > 4  # the real titles and filler
    latency = results["latency"]
    assert latency["correct"] == "4/4"  # the queries are screenshots of the real titles
    assert latency["identify_http_p50_ms"] > 0 and latency["bare_embed_1_image_p50_ms"] > 0
    assert [level["clients"] for level in results["throughput"]] == [1, 4]
    assert all(level["requests"] >= level["clients"] for level in results["throughput"])
    assert (tmp_path / "api.json").stat().st_size > 0
