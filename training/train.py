"""The schedule: frozen-backbone warm-up, partial fine-tune, per-epoch checkpoints, export."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from model.backbones import build_backbone
from model.exported import load_exported
from training.batches import make_batches
from training.checkpoint import (
    CHECKPOINT_DIR,
    STATE_FILE,
    EpochCheckpoint,
    ResumableReduceLROnPlateau,
    TrainState,
    read_state,
    restore_checkpoint,
    write_state,
)
from training.config import TrainConfig
from training.data import Sample, Split, scan_image_tree, split_samples
from training.evaluate import embed_samples, sample_colours
from training.export import export_embedding
from training.head import warm_up_on_features
from training.siamese import (
    BatchContrastiveLoss,
    ContrastiveLoss,
    backbone_of,
    build_embedding_model,
    build_siamese_model,
    freeze_backbone,
    unfreeze_backbone,
)
from training.tail import fine_tune_tail
from training.titlelevel import calibrate_export

__all__ = [
    "TrainConfig",
    "TrainError",
    "TrainResult",
    "TrainingRun",
    "build_run",
    "run_training",
    "train",
]
MODEL_FILE = "embedder.keras"
REPORT_FILE = "report.json"
SPLIT_FILE = "split.json"


class TrainError(RuntimeError):
    """Training cannot start or continue as asked (existing run dir, nothing to resume)."""


@dataclass
class TrainResult:
    run_dir: Path
    model_path: Path
    report_path: Path
    report: dict[str, Any]
    split: Split


class StepTimer(keras.callbacks.Callback):
    """Wall time of each step (first = tracing) and of each epoch, for the report."""

    def __init__(self) -> None:
        super().__init__()
        self.durations: list[float] = []
        self.epoch_seconds: list[float] = []
        self._start = self._epoch_start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        # Includes validation; under JAX's async dispatch per-step times understate compute.
        self.epoch_seconds.append(round(time.perf_counter() - self._epoch_start, 3))

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.durations.append(time.perf_counter() - self._start)


def accelerators() -> list[str]:
    """The backend's GPUs (e.g. ``["cuda:0"]``); empty on a CPU-only machine."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf  # only on this backend: JAX or torch machines may lack it

        return [d.name for d in tf.config.list_logical_devices("GPU")]
    if backend == "jax":
        import jax

        return [str(d) for d in jax.devices() if d.platform == "gpu"]
    if backend == "torch":
        import torch

        return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return []


def distribution_strategy() -> Any:
    """TensorFlow: mirror across GPUs when there are several, else the default (no-op) strategy.

    Other backends get a no-op scope (one device; JAX would need `keras.distribution` instead).
    The result is only used as a context manager (`with strategy.scope():`).
    """
    if keras.backend.backend() != "tensorflow":
        return _NoStrategy()
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()


class _NoStrategy:
    """Stands in for `tf.distribute.Strategy` where only `.scope()` is used."""

    def scope(self) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()


def _decay_schedule(first_epoch: int, config: TrainConfig) -> Callable[[int, float], float]:
    """Exponential decay per epoch within a phase; the phase's first epoch keeps its base rate.

    It multiplies the optimizer's current rate, so it composes with ReduceLROnPlateau and
    continues correctly from the rate restored with a resumed checkpoint.
    """

    def schedule(epoch: int, learning_rate: float) -> float:
        if epoch == first_epoch:
            return learning_rate
        return max(config.min_lr, learning_rate * config.lr_decay)

    return schedule


@dataclass
class TrainingRun:
    """A run built and ready to train (`build_run`), trained by `run_training`."""

    run_dir: Path
    config: TrainConfig
    state: TrainState
    split: Split
    strategy: Any  # a `tf.distribute.Strategy` or `_NoStrategy`: only `.scope()` is used
    embedding: keras.Model  # the branch that is exported
    trained: keras.Model  # what is fitted: the Siamese model (pairs) or the embedding (pk)
    train_batches: keras.utils.PyDataset
    val_batches: keras.utils.PyDataset | None  # None when validation has fewer than 2 titles


def train(
    data: Path | Sequence[Sample] | None,
    run_dir: Path,
    config: TrainConfig | None = None,
    *,
    resume: bool = False,
    cache_dir: Path | None = None,
    verbose: int | str = "auto",
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> TrainResult:
    """Train (or resume) a run in `run_dir`, export the embedding branch, write the report.

    `data` is a `TITLE/[EPISODE/]` folder or samples (e.g. from the catalog); on resume it may be
    None to reuse the folder recorded in the run. The hyperparameters of a resumed run are the
    saved ones; `config` is then ignored. `callbacks` run after the checkpoint of each epoch.
    """
    built = build_run(data, run_dir, config, resume=resume, cache_dir=cache_dir)
    return run_training(built, verbose=verbose, callbacks=callbacks)


def build_run(
    data: Path | Sequence[Sample] | None,
    run_dir: Path,
    config: TrainConfig | None = None,
    *,
    resume: bool = False,
    cache_dir: Path | None = None,
) -> TrainingRun:
    """Start or reopen the run's state, split the data, build the models (restoring the last
    checkpoint's weights) and the batches; nothing is trained yet. Arguments as for `train`."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    state, data = _open_state(run_dir, data, config, resume)
    config = state.config
    samples = scan_image_tree(Path(data)) if isinstance(data, str | Path) else list(data)
    split = split_samples(samples, config.val_fraction, config.test_fraction, config.seed)
    (run_dir / SPLIT_FILE).write_text(json.dumps(split.report(), indent=2) + "\n")
    keras.utils.set_random_seed(config.seed)

    strategy = distribution_strategy()
    with strategy.scope():
        # Resumed weights come from the checkpoint, so skip loading the pretrained ones.
        backbone = build_backbone(
            config.backbone,
            config.input_size,
            pretrained=config.pretrained and not state.checkpoint,
            cache_dir=cache_dir,
        )
        embedding = build_embedding_model(backbone, config.embedding_dim)
        trained = build_siamese_model(embedding) if config.sampling == "pairs" else embedding
    if state.checkpoint:
        embedding.load_weights(run_dir / CHECKPOINT_DIR / f"{state.checkpoint}.weights.h5")
    train_batches = make_batches(split.train, split.labels(split.train), config, validation=False)
    val_batches = None
    if len({s.title for s in split.val}) >= 2:
        val_batches = make_batches(split.val, split.labels(split.val), config, validation=True)
    return TrainingRun(
        run_dir, config, state, split, strategy, embedding, trained, train_batches, val_batches
    )


def _open_state(
    run_dir: Path, data: Path | Sequence[Sample] | None, config: TrainConfig | None, resume: bool
) -> tuple[TrainState, Path | Sequence[Sample]]:
    """The saved state and its data folder on resume; a fresh state in an unused run dir."""
    if resume:
        state = read_state(run_dir)
        if data is None:
            if not state.data:
                raise TrainError("this run was trained on in-memory samples: pass them again")
            data = Path(state.data)
        return state, data
    if data is None:
        raise TrainError("no training data given")
    if (run_dir / STATE_FILE).exists():
        raise TrainError(
            f"{run_dir} already holds a training run: pass --resume to continue it, "
            "or choose a new --run-dir"
        )
    folder = str(data) if isinstance(data, str | Path) else None
    return TrainState(config=config or TrainConfig(), data=folder), data


def run_training(
    run: TrainingRun,
    *,
    verbose: int | str = "auto",
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> TrainResult:
    """Fit the phases not yet done (warm-up, then fine-tune), checkpointing every epoch; export
    the embedding branch and write the report."""
    config, state = run.config, run.state
    timer = StepTimer()
    started = time.perf_counter()
    frozen = config.frozen_layer_count(len(backbone_of(run.embedding).layers))
    phases = [
        ("warmup", 0, config.warmup_epochs, config.warmup_lr),
        ("finetune", config.warmup_epochs, config.epochs, config.finetune_lr),
    ]
    head = None
    train_labels = run.split.labels(run.split.train)
    if config.mode == "head":  # the Dense alone, on frozen features: no image batches
        head = warm_up_on_features(run.embedding, run.split.train, train_labels, config)
    elif config.mode == "tail":  # the last blocks and the Dense, on cached trunk activations
        head = fine_tune_tail(run.embedding, run.split.train, train_labels, config)
    if head:
        write_state(run.run_dir, state)  # the run dir is taken: a second run must --resume
        phases = []
    for phase, first, end, learning_rate in phases:
        if state.epoch >= end or first == end:
            continue
        _fit_phase(run, phase, first, end, learning_rate, frozen, [timer, *callbacks], verbose)

    methods = {"head": "head-on-frozen-features", "tail": "tail-on-cached-activations"}
    extra = {"method": methods[config.mode]} if head else None
    model_path = export_embedding(run.embedding, run.run_dir / MODEL_FILE, config, extra)
    held_out = run.split.val + run.split.test  # frames training never saw
    vectors = embed_samples(load_exported(model_path), held_out)
    calibrate_export(model_path, held_out, vectors, sample_colours(held_out), config.seed)
    seconds = time.perf_counter() - started
    report = _report(state, run.split, config, timer, seconds, model_path)
    if head:
        report[config.mode] = head
    report_path = run.run_dir / REPORT_FILE
    report_path.write_text(json.dumps(report, indent=2) + "\n")
    return TrainResult(run.run_dir, model_path, report_path, report, run.split)


def _fit_phase(
    run: TrainingRun,
    phase: str,
    first: int,
    end: int,
    learning_rate: float,
    frozen: int,
    callbacks: Sequence[keras.callbacks.Callback],
    verbose: int | str,
) -> None:
    """Epochs `first`..`end` of one phase, from where the state left off (mid-phase on resume:
    the optimizer and plateau counters come back from the last checkpoint)."""
    config, state, trained = run.config, run.state, run.trained
    done = state.epoch
    with run.strategy.scope():
        if phase == "warmup":
            freeze_backbone(run.embedding)
        else:
            unfreeze_backbone(run.embedding, frozen)
        loss = (
            ContrastiveLoss(config.margin)
            if config.sampling == "pairs"
            else BatchContrastiveLoss(config.margin, config.hard_negatives)
        )
        trained.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
        resuming_mid_phase = done > first
        if resuming_mid_phase:
            restore_checkpoint(run.run_dir, state.checkpoint, run.embedding, trained.optimizer)
    if state.initial_val_loss is None and run.val_batches is not None:
        state.initial_val_loss = float(trained.evaluate(run.val_batches, verbose=0))
        write_state(run.run_dir, state)
    plateau = ResumableReduceLROnPlateau(
        saved=state.plateau if resuming_mid_phase else None,
        monitor="val_loss" if run.val_batches is not None else "loss",
        factor=config.plateau_factor,
        patience=config.plateau_patience,
        min_lr=config.min_lr,
        verbose=1,
    )
    decay = keras.callbacks.LearningRateScheduler(_decay_schedule(first, config))
    if verbose:
        print(f"{phase}: epochs {done + 1}..{end} of {config.epochs}", flush=True)
    trained.fit(
        run.train_batches,
        validation_data=run.val_batches,
        epochs=end,
        initial_epoch=done,
        verbose=verbose,
        callbacks=[
            decay,
            plateau,
            EpochCheckpoint(run.run_dir, run.embedding, state, plateau),
            *callbacks,
        ],
    )


def _report(
    state: TrainState,
    split: Split,
    config: TrainConfig,
    timer: StepTimer,
    seconds: float,
    path: Path,
) -> dict[str, Any]:
    history = state.history
    # Skip the first step of each fit: it includes graph tracing.
    steady = timer.durations[1:] if len(timer.durations) > 1 else timer.durations
    last = history[-1] if history else {}
    devices = accelerators()
    return {
        "model": str(path),
        "data": state.data,
        "config": config.to_dict(),
        "split": split.report(),
        "epochs_completed": state.epoch,
        "initial_val_loss": state.initial_val_loss,
        "final_loss": last.get("loss"),
        "final_val_loss": last.get("val_loss"),
        "history": history,
        "seconds_this_session": round(seconds, 2),
        "seconds_per_step_median": float(np.median(steady)) if steady else None,
        "steps_this_session": len(timer.durations),
        "device": "GPU" if devices else "CPU",
        "backend": keras.backend.backend(),
        "accelerators": devices,
        "seconds_per_epoch": timer.epoch_seconds,
    }
