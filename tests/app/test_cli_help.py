"""Every command answers --help with a usage line and its own description, without TensorFlow."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from app.cli import build_parser, main


def _command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name)
                yield from _command_paths(sub, (*prefix, name))


COMMANDS = sorted(_command_paths(build_parser()))


def test_every_documented_command_is_registered() -> None:
    expected = {
        ("serve",),
        ("prepare-model",),
        ("index",),
        ("index", "add"),
        ("index", "list"),
        ("index", "remove"),
        ("index", "reembed"),
        ("identify",),
    }
    assert expected <= set(COMMANDS)


@pytest.mark.parametrize("command", [(), *COMMANDS], ids=lambda c: " ".join(c) or "top")
def test_help(command: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: shazam-anime {' '.join(command)}".rstrip())
    if command[:1] not in (("train",), ("evaluate",)):  # training brings its own options
        assert "--data-dir" in out  # global options are accepted after the subcommand too
    assert len(out.splitlines()) > 5


@pytest.mark.slow
def test_module_entry_point_helps_without_loading_tensorflow() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout and "identify" in result.stdout
    check = "from app.cli import build_parser; import sys; build_parser(); "
    check += "assert 'tensorflow' not in sys.modules, 'parser imported tensorflow'"
    light = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert light.returncode == 0, light.stderr


def test_usage_error_exits_2_with_message(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["index", "add"])
    assert exit_info.value.code == 2
    assert "PATH" in capsys.readouterr().err
