"""bench/projection.py runs end to end on a tiny embeddings cache and reports every side."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from bench import projection
from bench.titlehead import (
    SERVED,
    choose_point,
    held_out_folds,
)
from bench.titlesets import bench_parser, title_sets, title_splits
from index.query.colour import PALETTE_DIM


def _cache(path: Path) -> Path:
    """A `bench/titlehead.py` cache of 5 titles x 3 episodes x 8 frames, each with a twin."""
    grid = [(t, e, p) for t in range(5) for e in (1, 2, 3) for _ in range(8) for p in (0, 1)]
    rows = np.array(grid)
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(5, 1280))[rows[:, 0]] + 0.8 * rng.normal(size=(len(rows), 1280))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    palettes = np.abs(rng.normal(size=(5, PALETTE_DIM))[rows[:, 0]])
    palettes += 0.3 * np.abs(rng.normal(size=(len(rows), PALETTE_DIM)))
    np.savez(path, vectors=vectors, palettes=palettes, rows=rows, ms=1.0, colour_ms=1.0)
    return path


@pytest.mark.slow
def test_projection_bench_reports_the_pretrained_side_beside_each_map(tmp_path: Path) -> None:
    cache = _cache(tmp_path / "cache.npz")
    argv = f"--seed 11 --titles 5 --known 3 --splits 1 --cache {cache} --steps 10".split()
    results = projection.main([*argv, "--variants", "pca512", "pca512-pairs"])
    assert set(results) == {"pretrained", "pca512", "pca512-pairs"}
    for result in results.values():
        assert result["top1"] > 1 / 3  # better than chance among 3 catalogued titles
        assert 0.0 <= result["right"] + result["wrong"] <= 1.0
        assert 0.0 <= result["unknown_titles_unknown"] <= 1.0
    fixed = projection.main([*argv, "--variants", "pca512", "--fit-cache", str(cache)])
    assert set(fixed) == {"pretrained", "pca512"}


@pytest.mark.slow
def test_versus_pairs_other_models_caches_of_the_same_queries(tmp_path: Path, capsys) -> None:
    cache = _cache(tmp_path / "cache.npz")
    argv = f"--seed 11 --titles 5 --known 3 --splits 1 --cache {cache}".split()
    same = projection.main([*argv, "--versus", str(cache)])
    assert same[f"versus {cache}"] == same["pretrained"]  # the same vectors: no difference at all

    saved = dict(np.load(cache))
    noise = np.random.default_rng(2).normal(size=saved["vectors"].shape)
    saved["vectors"] = saved["vectors"] + 3.0 * noise  # another, much worse, model
    np.savez(tmp_path / "other.npz", **saved)
    other = tmp_path / "other.npz"
    worse = projection.main([*argv, "--versus", str(other)])
    assert worse[f"versus {other}"] != worse["pretrained"]  # its vectors, not --cache's

    capsys.readouterr()
    both = projection.main([*argv, "--versus", str(cache), str(other)])
    assert both == {"pretrained": same["pretrained"], **same, **worse}
    lines = capsys.readouterr().out.splitlines()
    same_d, worse_d = [_paired(line) for line in lines if line.startswith("    paired difference")]
    (mean,) = [_paired(line) for line in lines if line.startswith("mean of the 2")]
    assert set(same_d.values()) == {0.0} and set(worse_d.values()) != {0.0}
    for key, value in mean.items():  # per title, averaged over the models
        assert abs(value - (same_d[key] + worse_d[key]) / 2) <= 0.0015

    saved["rows"][0, 1] = 2  # other frames: refused, not compared
    np.savez(tmp_path / "shifted.npz", **saved)
    with pytest.raises(SystemExit, match="not the same frames"):
        projection.main([*argv, "--versus", str(tmp_path / "shifted.npz")])
    with pytest.raises(SystemExit, match="missing"):
        projection.main([*argv, "--versus", str(tmp_path / "absent.npz")])


def _paired(line: str) -> dict[str, float]:
    """Each rate's paired difference on a printed "paired difference" line."""
    return {key: float(value) for key, value in re.findall(r"(\w+) ([+-]\d\.\d+) \{", line)}


@pytest.mark.slow
def test_declines_account_for_every_top1_right_query(tmp_path: Path, capsys) -> None:
    cache = _cache(tmp_path / "cache.npz")
    argv = f"--seed 11 --titles 5 --known 3 --splits 1 --cache {cache}".split()
    projection.main([*argv, "--versus", str(cache), "--declines"])
    assert capsys.readouterr().out.count("palette-capped") == 2  # both models

    args = bench_parser("x").parse_args(argv)
    vectors, colours, rows, _, _ = title_sets(args)
    catalogs = title_splits(5, 3, 1)
    folds, _ = held_out_folds(SERVED, vectors, colours, rows, catalogs)
    for points in ([choose_point(folds, f) for f in folds], [(0.99, 0.99)] * 3):
        counts = projection.declines(folds, points)
        declined = counts["probability"] + counts["gate"] + counts["both"]
        assert counts["right"] + declined == counts["top1"] <= counts["queries"]
        assert counts["capped"] <= counts["gate"] + counts["both"]
        assert counts["right"] <= counts["reachable"] <= counts["top1"]
    assert counts["right"] < counts["top1"]  # a point that strict declines some right guesses

    parts = projection.gate_parts(folds)
    assert set(parts) == {"the palette alone", "nothing (the probability alone)"}
    for rates in parts.values():
        assert 0.0 <= rates["right"] + rates["wrong"] <= 1.0
