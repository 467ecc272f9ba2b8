"""bench/scale.py runs end to end at a tiny size on both engines and finds the true neighbours."""

from __future__ import annotations

import pytest

from bench import scale


@pytest.mark.slow
def test_scale_bench_runs_on_both_engines(capsys: pytest.CaptureFixture[str]) -> None:
    assert scale.main(["--frames", "300", "--queries", "20", "--origins", "8"]) == 0
    out = capsys.readouterr().out
    rows = {
        line.split()[0]: line.split()
        for line in out.splitlines()
        if line.startswith(("hnswlib ", "milvus "))
    }
    assert set(rows) == {"hnswlib", "milvus"}
    for engine in ("hnswlib", "milvus"):
        recall = float(next(r for r in out.splitlines() if r.startswith(engine)).split()[5])
        assert recall >= 0.95, (engine, recall)
    assert "100,000,000" in out
