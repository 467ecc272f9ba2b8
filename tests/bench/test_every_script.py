"""Benchmarks are code too: every `bench/` script has its smoke test here."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_bench_script_has_a_smoke_test() -> None:
    scripts = {path.stem for path in (ROOT / "bench").glob("*.py") if path.stem != "__init__"}
    tested = {path.stem.removeprefix("test_") for path in Path(__file__).parent.glob("test_*.py")}
    untested = sorted(scripts - tested)
    assert scripts and not untested, f"bench scripts without a smoke test: {untested}"
