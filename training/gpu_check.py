"""GPU check: ~3 minutes of fine-tuning on generated titles, then kNN accuracy vs baselines.

Self-contained (repo + `pip install -e .[train]`; on a CUDA machine also
`pip install "tensorflow[and-cuda]==2.21.*"`). Run from the repo root:

    python -m training.gpu_check [--out /tmp/gpu_check] [--titles 16]

Prints one JSON summary: loss before/after, seconds per step, kNN top-1 of the fine-tuned
embedder vs the untuned pretrained backbone vs random weights on the held-out episodes.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/shazam_gpu_check"))
    parser.add_argument("--titles", type=int, default=16)
    parser.add_argument("--episodes", type=int, default=5)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--input-size", type=int, default=224)
    parser.add_argument("--steps", type=int, default=60, help="steps per epoch")
    parser.add_argument("--epochs", type=int, default=4, help="1 warm-up + the rest fine-tune")
    args = parser.parse_args()

    import tensorflow as tf

    from synthetic.dataset import write_image_tree
    from synthetic.titles import make_titles
    from training.evaluate import evaluate
    from training.train import TrainConfig, train

    print("GPUs:", tf.config.list_physical_devices("GPU"), flush=True)
    data = args.out / "frames"
    started = time.perf_counter()
    if not data.exists():
        write_image_tree(data, make_titles(args.titles, seed=7), args.episodes, args.frames,
                         size=(320, 180), seed=0)  # fmt: skip
    generated = time.perf_counter() - started
    run_dir = args.out / f"run-{int(time.time())}"
    config = TrainConfig(
        input_size=args.input_size, batch_size=32, steps_per_epoch=args.steps, val_steps=10,
        warmup_epochs=1, finetune_epochs=max(1, args.epochs - 1), workers=8,
    )  # fmt: skip
    result = train(data, run_dir, config, verbose=2)
    trained = time.perf_counter() - started - generated
    report = evaluate(result.model_path, data, run_dir / "evaluation", include_random=True)
    summary = {
        "device": result.report["device"],
        "data_seconds": round(generated, 1),
        "train_seconds": round(trained, 1),
        "seconds_per_step_median": result.report["seconds_per_step_median"],
        "initial_val_loss": result.report["initial_val_loss"],
        "final_loss": result.report["final_loss"],
        "final_val_loss": result.report["final_val_loss"],
        "split_frames": result.report["split"]["frames"],
        "knn_top1": {
            key: {
                "clean": model["clean_queries"]["top1_accuracy"],
                "perturbed": model["perturbed_queries"]["top1_accuracy"],
                "leave_source_out": model.get("leave_source_out_top1"),
            }
            for key, model in report["models"].items()
        },
        "model": str(result.model_path),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
