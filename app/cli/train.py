"""`train` and `evaluate` subcommands: offline Siamese fine-tuning and its evaluation report."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from app.cli.errors import CliError

_TRAIN_EPILOG = """\
data layout: DIR/TITLE/[EPISODE/]*.{jpg,png,webp}. With EPISODE folders whole episodes are held
out for validation and test; otherwise each title is cut into contiguous blocks of files.

examples:
  shazam-anime train --data frames/ --run-dir runs/lite0
  shazam-anime train --run-dir runs/lite0 --resume        # after an interruption
  shazam-anime serve --model runs/lite0/embedder.keras"""

# Hyperparameters exposed as flags: (TrainConfig field, type, help).
_HYPERPARAMETERS: tuple[tuple[str, type, str], ...] = (
    ("backbone", str, "efficientnet-lite0 (default), efficientnet-lite1/2 or resnet50"),
    ("input_size", int, "square network input in pixels (default 224)"),
    ("fit", str, "how frames become square: resize (default), pad, center-crop"),
    ("embedding_dim", int, "size of the learned embedding (default 512)"),
    ("margin", float, "contrastive margin m on the Euclidean distance (default 1.0)"),
    ("sampling", str, "pairs (Siamese pairs, default) or pk (P titles x K frames)"),
    ("batch_size", int, "pairs per batch with pairs sampling (default 32)"),
    ("titles_per_batch", int, "P with pk sampling (default 8)"),
    ("frames_per_title", int, "K with pk sampling (default 4)"),
    ("warmup_epochs", int, "epochs with the backbone frozen (default 2)"),
    ("finetune_epochs", int, "epochs with the top of the backbone unfrozen (default 6)"),
    ("steps_per_epoch", int, "batches per epoch (default 100)"),
    ("val_steps", int, "validation batches per epoch (default 20)"),
    ("warmup_lr", float, "Adam learning rate during warm-up (default 1e-3)"),
    ("finetune_lr", float, "Adam learning rate when fine-tuning (default 1e-4)"),
    ("lr_decay", float, "learning-rate factor per epoch (default 0.9)"),
    ("frozen_layers", int, "first N backbone layers kept frozen (default: first 60%%)"),
    ("augment_probability", float, "chance a training frame is perturbed (default 0.8)"),
    ("val_fraction", float, "share of episodes for validation (default 0.15)"),
    ("test_fraction", float, "share of episodes held out for testing (default 0.2)"),
    ("seed", int, "random seed for split, sampling and augmentation (default 0)"),
    ("workers", int, "image-loading threads (default 4)"),
)


def add_train_parsers(subcommands: argparse._SubParsersAction) -> None:
    """Register `train` and `evaluate` on the main parser."""
    train = subcommands.add_parser(
        "train",
        help="fine-tune an embedder on labelled frames (Siamese, contrastive loss)",
        description="Fine-tune a backbone as a Siamese network with a contrastive loss: a "
        "warm-up with the backbone frozen, then a partial fine-tune (BatchNorm kept frozen). "
        "Checkpoints every epoch into RUN_DIR; exports RUN_DIR/embedder.keras for "
        "`serve --model`, then evaluates it against the untuned backbone.",
        epilog=_TRAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("--data", type=Path, metavar="DIR", help="TITLE/[EPISODE/] image folder")
    train.add_argument(
        "--run-dir", type=Path, required=True, metavar="DIR", help="checkpoints, model, reports"
    )
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --run-dir from its last checkpoint, with its saved settings",
    )
    train.add_argument(
        "--no-evaluate", action="store_true", help="skip the evaluation report after training"
    )
    train.add_argument(
        "--no-pretrained", action="store_true", help="start from random weights (for comparison)"
    )
    group = train.add_argument_group("hyperparameters")
    for name, kind, text in _HYPERPARAMETERS:
        group.add_argument(f"--{name.replace('_', '-')}", type=kind, default=None, help=text)
    train.set_defaults(func=run_train)

    evaluate = subcommands.add_parser(
        "evaluate",
        help="evaluate an exported embedder against the untuned backbone",
        description="kNN evaluation on the test split the model was trained with (same seed "
        "and fractions, from its metadata): top-1 accuracy, 5-NN vote, recall@k, per-title "
        "precision/recall, for clean and screenshot-like perturbed queries. Writes "
        "evaluation.json, confusion_*.png and tsne_*.png (needs the `train` extra: "
        "scikit-learn, matplotlib). The untuned pretrained backbone is always evaluated beside.",
    )
    evaluate.add_argument(
        "--model", required=True, metavar="PATH", help="exported embedder (.keras)"
    )
    evaluate.add_argument(
        "--data", type=Path, required=True, metavar="DIR", help="TITLE/[EPISODE/] image folder"
    )
    evaluate.add_argument(
        "--out", type=Path, metavar="DIR", help="report folder (default: beside the model)"
    )
    evaluate.add_argument(
        "--random-baseline",
        action="store_true",
        help="also evaluate the same network with random weights",
    )
    evaluate.add_argument("--no-plots", action="store_true", help="JSON report only")
    evaluate.add_argument(
        "--cache-dir", type=Path, metavar="DIR", help="model cache for the untuned backbone"
    )
    evaluate.set_defaults(func=run_evaluate)


def _config_from(args: argparse.Namespace):
    from training.config import TrainConfig

    given = {name: getattr(args, name) for name, _, _ in _HYPERPARAMETERS}
    values = {k: v for k, v in given.items() if v is not None}
    if args.no_pretrained:
        values["pretrained"] = False
    known = {f.name for f in fields(TrainConfig)}
    try:
        return TrainConfig(**{k: v for k, v in values.items() if k in known})
    except ValueError as exc:
        raise CliError(str(exc)) from exc


def _user_errors() -> tuple[type[BaseException], ...]:
    from model.backbones import BackboneError
    from model.exported import ExportError
    from training.checkpoint import CheckpointError
    from training.data import DataError
    from training.plots import MissingExtraError
    from training.train import TrainError

    return (BackboneError, CheckpointError, DataError, ExportError, MissingExtraError, TrainError)


def run_train(args: argparse.Namespace) -> int:
    if not args.resume and args.data is None:
        raise CliError("--data DIR is required (or --resume to continue a run)")
    config = None if args.resume else _config_from(args)
    from training.train import train

    try:
        result = train(args.data, args.run_dir, config, resume=args.resume)
        print(f"model:  {result.model_path}")
        print(f"report: {result.report_path}")
        if not args.no_evaluate:
            from training.evaluate import evaluate

            out = result.run_dir / "evaluation"
            report = evaluate(result.model_path, args.data or result.report["data"], out)
            _print_summary(report)
            print(f"evaluation: {out / 'evaluation.json'}")
    except _user_errors() as exc:
        raise CliError(str(exc)) from exc
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from training.evaluate import evaluate

    out = args.out or Path(args.model).with_suffix("").parent / "evaluation"
    try:
        report = evaluate(
            Path(args.model), args.data, out, args.cache_dir, args.random_baseline,
            plots=not args.no_plots,
        )  # fmt: skip
    except _user_errors() as exc:
        raise CliError(str(exc)) from exc
    _print_summary(report)
    print(f"report: {out / 'evaluation.json'}")
    return 0


def _print_summary(report: dict) -> None:
    for key, result in report["models"].items():
        clean = result["clean_queries"]["top1_accuracy"]
        perturbed = result["perturbed_queries"]["top1_accuracy"]
        print(f"{key:>11}: kNN top-1 {clean:.3f} clean, {perturbed:.3f} perturbed queries")
