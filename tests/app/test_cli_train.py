"""`train` flags come from TrainConfig's fields: defaults, types and overrides in one place."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from app.cli import build_parser
from app.cli.errors import CliError
from app.cli.train import _config_from
from training.config import TrainConfig, flag_fields


def _train_parser() -> argparse.ArgumentParser:
    actions = build_parser()._actions
    commands = next(a for a in actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices["train"]


def test_every_flag_field_is_a_flag_with_its_default_in_the_help() -> None:
    parser = _train_parser()
    by_dest = {action.dest: action for action in parser._actions}
    for field in flag_fields():
        action = by_dest[field.name]
        assert action.option_strings == [f"--{field.name.replace('_', '-')}"]
        if field.default is not None:
            assert f"(default {field.default})" in action.help


def test_flags_parse_to_the_field_types_and_override_only_what_is_given() -> None:
    args = build_parser().parse_args(
        "train --data d --run-dir r --input-size 96 --warmup-lr 0.01 --frozen-layers 7 "
        "--sampling pk --no-pretrained --mode head --head-decay 0.01".split()
    )
    config = _config_from(args)
    expected = TrainConfig(
        input_size=96, warmup_lr=0.01, frozen_layers=7, sampling="pk", pretrained=False,
        mode="head", head_decay=0.01,
    )  # fmt: skip
    assert config == expected


def test_bad_flag_values_are_cli_errors() -> None:
    with pytest.raises(SystemExit):  # argparse: not an int
        build_parser().parse_args("train --data d --run-dir r --input-size big".split())
    args = build_parser().parse_args("train --data d --run-dir r --sampling triplets".split())
    with pytest.raises(CliError, match="sampling"):
        _config_from(args)


@pytest.mark.slow
def test_cli_help_lists_training_options() -> None:
    script = (
        "import argparse; from app.cli.train import add_train_parsers; "
        "p = argparse.ArgumentParser(); add_train_parsers(p.add_subparsers()); "
        "p.parse_args(['train', '-h'])"
    )
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--resume" in done.stdout and "--margin" in done.stdout
