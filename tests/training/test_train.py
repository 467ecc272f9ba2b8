"""End to end on generated titles: interrupted run resumes, export serves, kNN beats random."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.registry import load_embedder
from tests.training.short_run import TINY_CONFIG, Run
from training.evaluate import evaluate
from training.train import TrainError, train

pytestmark = pytest.mark.slow  # every test reads the shared short training run


def test_interrupted_run_resumes_from_the_next_epoch(run: Run) -> None:
    interrupted, resumed_epochs, result = run
    assert interrupted.epoch == 1 and interrupted.checkpoint == "epoch-0001"
    assert interrupted.config == TINY_CONFIG and len(interrupted.history) == 1
    assert resumed_epochs == [1]  # 0-based: only the second (fine-tune) epoch ran again
    assert [entry["epoch"] for entry in result.report["history"]] == [1, 2]
    assert result.report["epochs_completed"] == 2


def test_a_new_run_refuses_an_existing_run_dir(run: Run, frame_tree: Path) -> None:
    with pytest.raises(TrainError, match="--resume"):
        train(frame_tree, run[2].run_dir, TINY_CONFIG, verbose=0)


def test_validation_loss_falls(run: Run) -> None:
    report = run[2].report
    assert report["final_val_loss"] < report["initial_val_loss"]


def test_exported_embedder_loads_and_embeds(run: Run, model_cache_dir: Path) -> None:
    embedder = load_embedder(str(run[2].model_path), model_cache_dir)
    assert (embedder.dim, embedder.input_size) == (64, 64)
    vectors = embedder.embed([Image.new("RGB", (160, 90), (200, 30, 30)), Image.new("L", (50, 50))])
    assert vectors.shape == (2, 64) and vectors.dtype == np.float32
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)


def test_fine_tuned_knn_beats_random_weights(run: Run, frame_tree: Path, tmp_path: Path) -> None:
    report = evaluate(run[2].model_path, frame_tree, tmp_path, include_random=True)
    models = report["models"]
    top1 = {key: models[key]["clean_queries"]["top1_accuracy"] for key in models}
    print("kNN top-1 on clean test queries:", top1)
    assert top1["fine_tuned"] > top1["random"]
    assert set(models) == {"fine_tuned", "untuned", "random"}
    for result in models.values():  # the title head's operating point splits every query
        head = result["title_head"]
        assert abs(head["right"] + head["wrong"] + head["unknown"] - 1.0) < 1e-9
    for name in ("evaluation.json", "confusion_fine_tuned.png", "tsne_untuned.png"):
        assert (tmp_path / name).stat().st_size > 0
