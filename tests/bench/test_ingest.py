"""bench/ingest.py on a two-second video: the ingested and the bare run see the same frames, and
the shot detector is timed beside the decoding."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.ingest import main


@pytest.mark.slow
def test_short_video_ingests_every_sampled_frame(model_cache_dir: Path) -> None:
    argv = f"--seconds 2 --fps 2 --batch-size 4 --width 320 --cache-dir {model_cache_dir}"
    result = main(argv.split())
    assert result["frames_ingested"] == result["frames_bare"] >= 1
    assert result["decode_s"] > 0 and result["embed_s"] > 0 and result["ingest_s"] > 0
    assert result["decode_ms_per_frame"] > 0 and result["detector_ms_per_frame"] > 0
    assert result["map_ms_per_kept_frame"] > 0
