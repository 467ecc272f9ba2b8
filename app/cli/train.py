"""`train` and `evaluate` subcommands: offline Siamese fine-tuning and its evaluation report."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import UnionType
from typing import Literal, get_args, get_origin, get_type_hints

from app.cli.errors import CliError
from training.config import FLAG, TrainConfig, flag_fields  # no TensorFlow: `--help` stays fast

_TRAIN_EPILOG = """\
data: either --data DIR, laid out as DIR/TITLE/[EPISODE/]*.{jpg,png,webp}, or --from-catalog,
the frames already indexed in --data-dir (env SHAZAM_DATA_DIR), labelled by title and episode.
The catalog's thumbnails are copied to RUN_DIR/catalog-frames/ in that same layout, so a resumed
run and its evaluation use exactly the frames it started from. With episodes (EPISODE folders,
or episodes/sources in the catalog) whole episodes are held out for validation and test;
otherwise each title is cut into contiguous blocks of frames.

examples:
  shazam-anime train --data frames/ --run-dir runs/lite0
  shazam-anime train --from-catalog --data-dir data/ --run-dir runs/lite0
  shazam-anime train --run-dir runs/lite0 --resume        # after an interruption
  shazam-anime serve --model runs/lite0/embedder.keras"""

_DATA_DIR_HELP = "catalog to read with --from-catalog (env SHAZAM_DATA_DIR, default ./data)"


def _add_hyperparameters(parser: argparse.ArgumentParser) -> None:
    """One flag per `TrainConfig` field marked with `training.config.flag`: its name, type and
    help, and its default read from the field, so the defaults live in the config alone. Flags
    default to None (absent), so only the values given override the config."""
    group = parser.add_argument_group("hyperparameters")
    types = get_type_hints(TrainConfig)
    for field in flag_fields():
        kind = types[field.name]
        if get_origin(kind) is Literal:
            kind = str
        elif isinstance(kind, UnionType):  # `int | None`: the value's type
            kind = next(arg for arg in get_args(kind) if arg is not type(None))
        default = "" if field.default is None else f" (default {field.default})"
        text = f"{field.metadata[FLAG]}{default}".replace("%", "%%")
        group.add_argument(f"--{field.name.replace('_', '-')}", type=kind, default=None, help=text)


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
    _add_data_options(train, "train on the frames indexed in the catalog (see below)")
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
    _add_hyperparameters(train)
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
    _add_data_options(
        evaluate,
        "evaluate on the frames indexed in the catalog as it is now (for the exact frames a "
        "catalog-trained run used, pass --data RUN_DIR/catalog-frames)",
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


def _add_data_options(parser: argparse.ArgumentParser, catalog_help: str) -> None:
    """--data DIR or --from-catalog (exactly one, checked in the handlers so that --resume
    can do without either), and --data-dir also after the subcommand."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", type=Path, metavar="DIR", help="TITLE/[EPISODE/] image folder")
    source.add_argument("--from-catalog", action="store_true", help=catalog_help)
    # SUPPRESS: absent stays absent, so a --data-dir given before the subcommand still counts.
    parser.add_argument("--data-dir", default=argparse.SUPPRESS, metavar="DIR", help=_DATA_DIR_HELP)


@contextmanager
def _catalog_frames(args: argparse.Namespace, batch: int = 256) -> Iterator[tuple[Iterator, int]]:
    """(batches of labelled frames, frame count) from the catalog, opened with the model it was
    built with, as `index list` does: no embedder is loaded."""
    from app.cli.catalog import opened_store
    from app.config import Settings

    # Only the catalog location (and index settings from the environment) matter here; the
    # evaluate command's --model is an exported file, not the catalog's model.
    given = getattr(args, "data_dir", None)
    settings = Settings(data_dir=given) if given is not None else Settings()
    with opened_store(settings) as store:
        if store is None:
            raise CliError(
                f"no catalog in {settings.data_dir}: add titles with `index add`, or point "
                "--data-dir at one"
            )
        yield store.iter_labelled_frames(batch), store.stats().frames


def _export_catalog(args: argparse.Namespace, root: Path) -> Path:
    """Copy the catalog's frames to `root` as a TITLE/EPISODE/ tree (see training.data)."""
    from training.data import export_catalog_frames

    show = sys.stderr.isatty()
    with _catalog_frames(args) as (batches, total):
        if total == 0:
            raise CliError("the catalog has no frames to train on: add titles with `index add`")

        def progress(done: int) -> None:
            print(f"\rcopying catalog frames: {done}/{total}", end="", file=sys.stderr)

        path = export_catalog_frames(batches, root, progress if show else None)
    if show:
        print(file=sys.stderr)
    print(f"catalog: {total} frames copied to {path}", file=sys.stderr)
    return path


def _check_data_choice(args: argparse.Namespace, resuming: bool = False) -> None:
    if resuming:
        if args.from_catalog:
            raise CliError(
                "--resume continues with the frames the run started from; drop --from-catalog"
            )
        return
    if args.data is None and not args.from_catalog:
        raise CliError("say which frames to use: --data DIR or --from-catalog")


def _config_from(args: argparse.Namespace) -> TrainConfig:
    given = {field.name: getattr(args, field.name) for field in flag_fields()}
    values = {k: v for k, v in given.items() if v is not None}
    if args.no_pretrained:
        values["pretrained"] = False
    try:
        return TrainConfig(**values)
    except ValueError as exc:
        raise CliError(str(exc)) from exc


def _user_errors() -> tuple[type[BaseException], ...]:
    from model.builtin import BackboneError
    from model.exported import ExportError
    from training.checkpoint import CheckpointError
    from training.data import DataError
    from training.plots import MissingExtraError
    from training.train import TrainError

    return (BackboneError, CheckpointError, DataError, ExportError, MissingExtraError, TrainError)


def run_train(args: argparse.Namespace) -> int:
    _check_data_choice(args, resuming=args.resume)
    config = None if args.resume else _config_from(args)
    from training.data import CATALOG_FRAMES_DIR, DataError
    from training.train import train

    data = args.data
    try:
        if args.from_catalog:
            _refuse_existing_run(args.run_dir)
            data = _export_catalog(args, args.run_dir / CATALOG_FRAMES_DIR)
    except DataError as exc:
        raise CliError(str(exc)) from exc
    try:
        result = train(data, args.run_dir, config, resume=args.resume)
    except _user_errors() as exc:
        raise CliError(str(exc)) from exc
    written = [("model", result.model_path), ("report", result.report_path)]
    if not args.no_evaluate:
        from training.evaluate import evaluate

        out = result.run_dir / "evaluation"
        try:
            report = evaluate(result.model_path, data or result.report["data"], out)
        except _user_errors() as exc:
            _print_written(written)  # the trained model is usable even without its evaluation
            raise CliError(f"trained, but the evaluation failed: {exc}") from exc
        _print_summary(report)
        written.append(("evaluation", out / "evaluation.json"))
    _print_written(written)
    return 0


def _print_written(written: list[tuple[str, Path]]) -> None:
    """The last lines of `train`: where its outputs are (`serve --model` takes the model)."""
    for label, path in written:
        print(f"{label + ':':<12}{path}")


def _refuse_existing_run(run_dir: Path) -> None:
    """The check `train` makes, done before copying the catalog into the run dir."""
    from training.checkpoint import STATE_FILE

    if (run_dir / STATE_FILE).exists():
        raise CliError(
            f"{run_dir} already holds a training run: pass --resume to continue it, "
            "or choose a new --run-dir"
        )


def run_evaluate(args: argparse.Namespace) -> int:
    _check_data_choice(args)
    from training.evaluate import evaluate

    out = args.out or Path(args.model).with_suffix("").parent / "evaluation"
    try:
        with tempfile.TemporaryDirectory(prefix="shazam-eval-") as scratch:
            # The current catalog, copied only for this evaluation (it may differ from the
            # run's own snapshot, which is left untouched).
            data = (
                _export_catalog(args, Path(scratch) / "frames") if args.from_catalog else args.data
            )
            report = evaluate(
                Path(args.model), data, out, args.cache_dir, args.random_baseline,
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
