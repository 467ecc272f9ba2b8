"""bench/gpu_check.py: its argument handling, and its whole path at --tiny sizes on the CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.gpu_check import TINY, _parse, main


def test_defaults_aim_at_a_device_run_and_tiny_overrides_every_size() -> None:
    args = _parse([])
    assert (args.titles, args.episodes, args.frames, args.epochs) == (24, 5, 20, 6)
    tiny = _parse(["--tiny", "--titles", "9", "--work", "/tmp/w"])
    assert {key: getattr(tiny, key) for key in TINY} == TINY  # --tiny wins over given sizes
    assert tiny.work == Path("/tmp/w") and not tiny.no_random


@pytest.mark.slow
def test_tiny_run_on_cpu_trains_evaluates_and_writes_the_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = f"--tiny --out {out} --work {tmp_path / 'work'} --processes 1 --workers 1 --no-random"
    summary = main(argv.split())
    assert summary["device"] == "CPU" and summary["sizes"] == TINY
    assert set(summary["knn_top1"]) == {"fine_tuned", "untuned"}
    for scores in summary["knn_top1"].values():
        assert 0 <= scores["clean"] <= 1 and 0 <= scores["perturbed"] <= 1
    assert summary["split_frames"]["train"] > 0 and summary["final_loss"] > 0
    assert json.loads((out / "summary.json").read_text()) == summary
    assert (out / "evaluation.json").stat().st_size > 0
