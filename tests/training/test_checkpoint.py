"""The typed run state: what state.json holds, read back as written, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.checkpoint import STATE_FILE, CheckpointError, TrainState, read_state, write_state
from training.config import TrainConfig


def test_state_round_trips_through_state_json(tmp_path: Path) -> None:
    config = TrainConfig(input_size=64, sampling="pk", frozen_layers=3)
    state = TrainState(config=config, data="frames/")
    state.epoch, state.checkpoint = 2, "epoch-0002"
    state.history += [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.4}]
    state.plateau = {"best": 0.4, "wait": 0, "cooldown_counter": 0}
    state.initial_val_loss = 0.9
    write_state(tmp_path, state)
    saved = json.loads((tmp_path / STATE_FILE).read_text())
    assert saved["config"]["sampling"] == "pk" and saved["epoch"] == 2  # plain JSON on disk
    assert read_state(tmp_path) == state


def test_state_of_an_older_version_still_reads(tmp_path: Path) -> None:
    """Unknown config keys are dropped and missing progress fields start empty."""
    old = {"config": {"input_size": 96, "retired_option": 1}, "data": None, "epoch": 1}
    (tmp_path / STATE_FILE).write_text(json.dumps(old))
    state = read_state(tmp_path)
    assert state.config == TrainConfig(input_size=96)
    assert (state.epoch, state.checkpoint, state.history) == (1, None, [])


@pytest.mark.parametrize(
    ("text", "message"),
    [(None, "nothing to resume"), ("{", "not valid JSON"), ('{"epoch": 1}', "not a training")],
)
def test_unreadable_state_is_a_checkpoint_error(tmp_path: Path, text, message) -> None:
    if text is not None:
        (tmp_path / STATE_FILE).write_text(text)
    with pytest.raises(CheckpointError, match=message):
        read_state(tmp_path)
