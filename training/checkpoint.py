"""Per-epoch checkpoints in a run dir (weights, optimizer state, epoch) so a run can resume."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from training.config import TrainConfig

STATE_FILE = "state.json"
CHECKPOINT_DIR = "checkpoints"
_KEEP = 2  # the newest checkpoints kept; older ones are deleted


class CheckpointError(RuntimeError):
    """A run dir cannot be resumed (no state, files missing, different model shape)."""


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@dataclass
class TrainState:
    """A run's progress, as state.json holds it: enough to resume after any completed epoch."""

    config: TrainConfig
    data: str | None  # the image folder trained on; None for in-memory samples
    epoch: int = 0  # epochs completed
    checkpoint: str | None = None  # stem of the newest complete checkpoint
    history: list[dict[str, float]] = field(default_factory=list)  # one entry per epoch
    plateau: dict[str, float] | None = None  # ReduceLROnPlateau counters at the last epoch
    initial_val_loss: float | None = None  # before any training, for the report

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "config": self.config.to_dict()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainState:
        return cls(
            config=TrainConfig.from_dict(values["config"]),
            data=values.get("data"),
            epoch=values.get("epoch", 0),
            checkpoint=values.get("checkpoint"),
            history=values.get("history", []),
            plateau=values.get("plateau"),
            initial_val_loss=values.get("initial_val_loss"),
        )


def read_state(run_dir: Path) -> TrainState:
    path = Path(run_dir) / STATE_FILE
    if not path.is_file():
        raise CheckpointError(f"no {STATE_FILE} in {run_dir}: nothing to resume")
    try:
        return TrainState.from_dict(json.loads(path.read_text()))
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc})") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a training state ({exc})") from exc


def write_state(run_dir: Path, state: TrainState) -> None:
    """state.json is written last and atomically: it only ever names complete checkpoints."""
    text = json.dumps(state.to_dict(), indent=2, sort_keys=True) + "\n"
    _atomic_write(Path(run_dir) / STATE_FILE, text)


def save_checkpoint(
    run_dir: Path, epoch: int, model: keras.Model, optimizer: keras.optimizers.Optimizer
) -> str:
    """Write weights and optimizer variables for `epoch` (epochs completed); returns its stem."""
    directory = Path(run_dir) / CHECKPOINT_DIR
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"epoch-{epoch:04d}"
    tmp_weights = directory / f".{stem}.tmp.weights.h5"
    model.save_weights(tmp_weights)
    values = {f"v{i:05d}": np.asarray(v.numpy()) for i, v in enumerate(optimizer.variables)}
    tmp_optimizer = directory / f".{stem}.tmp.npz"
    with open(tmp_optimizer, "wb") as stream:
        np.savez(stream, **values)
    os.replace(tmp_weights, directory / f"{stem}.weights.h5")
    os.replace(tmp_optimizer, directory / f"{stem}.optimizer.npz")
    return stem


def prune_checkpoints(run_dir: Path, keep_stem: str) -> None:
    """Delete all but the newest few checkpoints (never `keep_stem`, the one state.json names)."""
    directory = Path(run_dir) / CHECKPOINT_DIR
    stems = sorted({p.name.split(".")[0] for p in directory.glob("epoch-*.weights.h5")})
    for stem in stems[:-_KEEP]:
        if stem != keep_stem:
            for path in directory.glob(f"{stem}.*"):
                path.unlink(missing_ok=True)


def restore_checkpoint(
    run_dir: Path, stem: str, model: keras.Model, optimizer: keras.optimizers.Optimizer
) -> None:
    """Load weights, then build the optimizer for the current trainable set and fill its slots."""
    directory = Path(run_dir) / CHECKPOINT_DIR
    weights, optimizer_file = directory / f"{stem}.weights.h5", directory / f"{stem}.optimizer.npz"
    if not weights.is_file() or not optimizer_file.is_file():
        raise CheckpointError(f"checkpoint {stem} is incomplete in {directory}")
    model.load_weights(weights)
    optimizer.build(model.trainable_variables)
    with np.load(optimizer_file) as stored:
        saved = [stored[key] for key in sorted(stored.files)]
    if len(saved) != len(optimizer.variables):
        raise CheckpointError(
            f"checkpoint {stem} has {len(saved)} optimizer variables, the model needs "
            f"{len(optimizer.variables)}: was the run started with another configuration?"
        )
    for variable, value in zip(optimizer.variables, saved, strict=True):
        if tuple(variable.shape) != value.shape:
            raise CheckpointError(f"checkpoint {stem}: optimizer variable {variable.path} shape")
        variable.assign(value)


class EpochCheckpoint(keras.callbacks.Callback):
    """After every epoch: checkpoint `model` (+ optimizer), then record the epoch in state.json."""

    def __init__(
        self,
        run_dir: Path,
        model: keras.Model,
        state: TrainState,
        plateau: ResumableReduceLROnPlateau,
    ) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.target = model
        self.state = state
        self.plateau = plateau

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        stem = save_checkpoint(self.run_dir, epoch + 1, self.target, self.model.optimizer)
        entry = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        learning_rate = self.model.optimizer.learning_rate
        entry["learning_rate"] = float(keras.ops.convert_to_numpy(learning_rate))
        self.state.history.append(entry)
        self.state.epoch = epoch + 1
        self.state.checkpoint = stem
        self.state.plateau = {
            "best": float(self.plateau.best),
            "wait": int(self.plateau.wait),
            "cooldown_counter": int(self.plateau.cooldown_counter),
        }
        write_state(self.run_dir, self.state)
        prune_checkpoints(self.run_dir, stem)


class ResumableReduceLROnPlateau(keras.callbacks.ReduceLROnPlateau):
    """ReduceLROnPlateau whose patience counters survive a resume (on_train_begin resets them)."""

    def __init__(self, saved: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.saved = saved

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        if self.saved:
            self.best = self.saved["best"]
            self.wait = self.saved["wait"]
            self.cooldown_counter = self.saved["cooldown_counter"]
            self.saved = None
