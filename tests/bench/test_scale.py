"""bench/scale.py runs end to end at a tiny size on both engines and finds the true neighbours."""

from __future__ import annotations

import numpy as np
import pytest

from bench import scale


def test_exact_neighbours_streamed_over_sources_match_a_full_search() -> None:
    origins = scale.noisy(np.eye(4, 32, dtype=np.float32), 6, np.random.default_rng(3))
    frames = 2 * scale.SOURCE_FRAMES + 7  # three sources, the last one short
    queries = scale.noisy(origins, 5, np.random.default_rng(4))
    every = np.vstack([vectors for _, vectors in scale.sources(origins, frames)])
    assert every.shape == (frames, 32)
    expected = np.argsort(-(queries @ every.T), axis=1)[:, :10]
    found = scale.exact_neighbours(origins, frames, queries, 10)
    assert [set(row) for row in found.tolist()] == [set(row) for row in expected.tolist()]
    # a screenshot's nearest catalog frame is the one it was taken of
    rows, shots = scale.screenshots(origins, frames, 8)
    assert np.array_equal(np.argmax(shots @ every.T, axis=1), rows)


@pytest.mark.slow
def test_scale_bench_runs_on_both_engines(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--frames", "1500", "--milvus-frames", "300", "--queries", "20", "--origins", "8"]
    assert scale.main(argv) == 0
    out = capsys.readouterr().out
    measured, extrapolated = out.split("\nExtrapolated")
    rows = {
        line.split()[0]: line.split()
        for line in measured.splitlines()
        if line.startswith(("hnswlib ", "milvus "))
    }
    assert set(rows) == {"hnswlib", "milvus"}
    assert rows["hnswlib"][1] == "1500" and rows["milvus"][1] == "300"
    for engine, row in rows.items():
        assert float(row[5]) >= 0.95, (engine, row)  # recall@10 against exact search
        assert float(row[3]) > 0  # memory a fresh open holds
    # disk split by file: the catalog and hnswlib's checkpoint, or milvus-lite's directory
    assert "catalog.sqlite3" in out and "index.bin" in out and "milvus.db/" in out
    assert "10,000,000" in extrapolated and "100,000,000" in extrapolated
