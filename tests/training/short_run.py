"""The short CPU training run the training tests share: interrupted after epoch 1, then resumed."""

from __future__ import annotations

from pathlib import Path

import keras
import pytest

from training.checkpoint import TrainState, read_state
from training.config import TrainConfig
from training.train import TrainResult, train

TINY_CONFIG = TrainConfig(
    input_size=64, embedding_dim=64, batch_size=16, steps_per_epoch=5, val_steps=2,
    warmup_epochs=1, finetune_epochs=1, warmup_lr=2e-3, finetune_lr=2e-4, workers=2,
)  # fmt: skip

# (state.json after the interruption, 0-based epochs the resumed run began, the final result)
Run = tuple[TrainState, list[int], TrainResult]


class Interrupt(keras.callbacks.Callback):
    """Stands in for Ctrl-C right after the first epoch's checkpoint."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        raise KeyboardInterrupt


class EpochRecorder(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[int] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epochs.append(epoch)


def interrupted_and_resumed_run(frames: Path, run_dir: Path) -> Run:
    """Train TINY_CONFIG on `frames`, stop it after the first checkpoint, resume it to the end."""
    with pytest.raises(KeyboardInterrupt):
        train(frames, run_dir, TINY_CONFIG, verbose=0, callbacks=[Interrupt()])
    interrupted = read_state(run_dir)
    recorder = EpochRecorder()
    result = train(None, run_dir, resume=True, verbose=0, callbacks=[recorder])
    return interrupted, recorder.epochs, result
