"""README: the two set-up commands, CI running the test one verbatim, and nothing stale."""

from __future__ import annotations

import re
import tomllib

from app.cli import build_parser
from tests.deploy.parsing import (
    ENV_NAME,
    ROOT,
    pip_install_targets,
    readme_shell_blocks,
    settings_env_names,
)

README = (ROOT / "README.md").read_text()


def _setup_commands() -> list[str]:
    return [
        line
        for block in readme_shell_blocks(README)
        for line in block.splitlines()
        if line.startswith("python3 -m venv .venv")
    ]


def test_exactly_two_setup_commands_run_and_test() -> None:
    run, test = _setup_commands()
    assert run.endswith(".venv/bin/shazam-anime serve")
    assert test.endswith(".venv/bin/python -m pytest")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    (targets,) = pip_install_targets(test)
    (wanted,) = re.fullmatch(r"\.\[(.*)\]", targets[0]).groups()
    assert set(wanted.split(",")) <= set(extras)


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in ci
    assert _setup_commands()[1] in ci.splitlines()


def test_ci_installs_the_browser_before_the_tests() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "apt-get install" in ci and "chromium" in ci
    assert ci.index("chromium") < ci.index(_setup_commands()[1])
    assert "playwright install" not in ci


def test_configuration_table_lists_exactly_the_settings() -> None:
    table = set(re.findall(r"^\| `(SHAZAM_[A-Z0-9_]+)` \|", README, flags=re.M))
    assert table == settings_env_names()
    assert set(ENV_NAME.findall(README)) <= settings_env_names()


def test_cli_commands_it_mentions_exist() -> None:
    parser = build_parser()
    for command in set(re.findall(r"shazam-anime ((?:index )?[a-z-]+)", README)):
        words = command.split()
        try:
            parser.parse_args([*words, "--help"])
        except SystemExit as done:
            assert done.code == 0, f"README mentions unknown command: shazam-anime {command}"


def test_attribution() -> None:
    assert "Big Buck Bunny" in README and "Blender Foundation" in README and "CC BY 3.0" in README
    assert "EfficientNet-Lite" in README and "Apache" in README
