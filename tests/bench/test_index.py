"""bench/index.py at a tiny size: both datasets, the ef sweep, a rebuild and the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

from bench.index import main


def test_tiny_run_reports_recall_and_rates(tmp_path: Path) -> None:
    out = tmp_path / "index.json"
    argv = "--n 1500 --dim 16 --clusters 30 --queries 40 --single-queries 5 --k 5 --ef 32"
    argv += f" --ef-sweep 8 64 --rebuild --json {out} --workdir {tmp_path / 'work'}"
    assert main(argv.split()) == 0
    results = json.loads(out.read_text())
    assert [result["dataset"].split()[0] for result in results] == ["clustered", "uniform"]
    for result in results:
        assert result["n"] == 1500 and result["dim"] == 16
        assert result["rebuild_from_catalog_seconds"] > 0 and result["index_bytes_per_vector"] > 0
        assert set(result["per_ef"]) == {"8", "64"}
        for row in result["per_ef"].values():
            assert 0 < row["recall_at_k"] <= 1 and row["qps_batched"] > 0
    # 1500 clustered 16-d vectors: HNSW at ef 64 finds nearly every exact neighbour.
    assert results[0]["per_ef"]["64"]["recall_at_k"] >= 0.95
