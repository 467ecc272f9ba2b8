"""bench/robustness.py at its smallest: every kind of configuration and the calibration."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.robustness import main
from synthetic.perturb import PERTURBATIONS
from synthetic.pictures import PICTURES


@pytest.mark.slow
def test_tiny_run_scores_every_configuration(model_cache_dir: Path, capsys) -> None:
    argv = "--titles 2 --episodes 1 --seconds 3 --queries 1 --fits resize,pad --sure 0.9"
    argv += f" --agreement off --rerank off --milvus --calibrate --cache-dir {model_cache_dir}"
    results = main(argv.split())
    assert list(results) == [
        "resize + views", "resize, no views", "pad + views", "sure 0.9, agree off", "rerank off",
        "resize + views, Milvus",
    ]  # fmt: skip
    for scores in results.values():
        assert set(scores) == {"clean", *PERTURBATIONS, "crop_any", *PICTURES}
        for score in scores.values():
            right_title, exact, sims, second_pass, reranked, *_ = score
            in_scene, spans = score[8:]
            assert 0 <= exact <= right_title <= 1 and len(sims) == 1
            assert 0 <= in_scene <= right_title and all(span >= 0 for span in spans)
            assert 0 <= second_pass <= 1 and 0 <= reranked <= 1
        assert scores["clean"][0] == 1.0  # a clean screenshot of a catalogued moment
        assert scores["clean"][8] == 1.0  # ...lies inside the scene the answer gives
    on_milvus, on_hnswlib = results["resize + views, Milvus"], results["resize + views"]
    assert {k: v[:2] for k, v in on_milvus.items()} == {k: v[:2] for k, v in on_hnswlib.items()}
    assert results["rerank off"]["clean"][4] == 0.0  # re-rank off: nothing re-ranked
    printed = capsys.readouterr().out
    assert "min_similarity 0.82" in printed and "second pass" in printed
    assert "in scene (title, episode, from <= t <= to)" in printed


@pytest.mark.slow
def test_only_the_named_perturbations_are_queried(model_cache_dir: Path) -> None:
    argv = "--titles 1 --episodes 1 --seconds 3 --queries 1 --fits resize"
    results = main(
        [*argv.split(), "--only", "crop70,edit_stack", "--cache-dir", str(model_cache_dir)]
    )
    assert [set(scores) for scores in results.values()] == [{"crop70", "edit_stack"}] * 2
    with pytest.raises(SystemExit):
        main(["--only", "crop70,no_such_perturbation"])


@pytest.mark.slow
def test_held_out_seeds_pool_their_queries_on_the_default_config(
    model_cache_dir: Path, capsys
) -> None:
    argv = "--titles 1 --episodes 1 --seconds 3 --queries 2 --only screen_photo --default-only"
    results = main([*argv.split(), "--query-seeds", "4-5,7", "--cache-dir", str(model_cache_dir)])
    assert list(results) == ["default"] and list(results["default"]) == ["screen_photo"]
    assert len(results["default"]["screen_photo"][2]) == 6  # 2 pictures from each of 3 seeds
    assert "6 queries per perturbation" in capsys.readouterr().out
