"""bench/footprint.py at a tiny size: bytes per frame by part, projected index beside full."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.footprint import PHOTOS, main
from index.ingest.mapper import PREVIEW_MEAN_BYTES
from index.query.colour import PALETTE_DIM


@pytest.mark.slow
def test_tiny_run_measures_each_part_per_frame(model_cache_dir: Path, capsys) -> None:
    argv = f"--titles 1 --episodes 2 --seconds 3 --full --cache-dir {model_cache_dir}"
    results = main(argv.split())
    projected, full = results["index 192 dims"], results["index 1280 dims"]
    for result in (projected, full):
        assert result["frames"] > 0 and result["vectors"] < 1280 + 4  # deflated int8, a scale
        assert 0 < result["previews"] < 4096  # the rest of the file moves by whole pages here
        # Each frame's plain and grey histograms, one byte a bin, in a zstd frame.
        assert 0 < result["colours"] < PALETTE_DIM
        assert result["disk"] >= result["index_file"] == result["memory"]
        # Without the pages' free space, the rows still hold every blob they store (the disk
        # as read moves by whole pages at this size: it may be less, or more).
        blobs = result["vectors"] + result["previews"] + result["colours"]
        assert blobs + result["index_file"] < result["disk_pages_full"]
    assert projected["projection"] == 1280 * 192 * 4 + 128 and full["projection"] == 0
    # The index holds 192 floats a frame, not 1280: 15% of the vector bytes, plus the graph.
    assert 512 < projected["memory"] < 1536 < 5120 < full["memory"]
    assert "budget" in capsys.readouterr().out


@pytest.mark.slow
def test_tiny_run_on_real_footage_fits_previews_to_the_budget(
    model_cache_dir: Path, capsys
) -> None:
    argv = f"--footage --every 22 --cache-dir {model_cache_dir}"
    result = main(argv.split())["index 192 dims"]
    assert result["frames"] == 2 * 6 + len(PHOTOS)  # six Bunny frames, mirrored, and the photos
    # Bunny frames alone are ~3.2 KB at quality 60: fitted to the mean budget (docs/compact.md).
    assert 1000 < result["previews"] <= PREVIEW_MEAN_BYTES
    assert "real footage" in capsys.readouterr().out
