"""Small readers for the deploy files, so the tests compare what they say rather than strings."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV_NAME = re.compile(r"\bSHAZAM_[A-Z0-9_]+\b")


def settings_env_names() -> set[str]:
    from app.config import Settings

    return {f"SHAZAM_{name.upper()}" for name in Settings.model_fields}


def dockerfile_stages(text: str) -> list[list[tuple[str, str]]]:
    """(INSTRUCTION, arguments) per build stage, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[list[tuple[str, str]]] = []
    for line in logical:
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def pip_install_targets(command: str) -> list[list[str]]:
    """The requirement arguments of every `pip install` in a shell line (`-e` dropped)."""
    targets = []
    for part in re.split(r"&&|;", command):
        words = shlex.split(part)
        names = [Path(word).name for word in words]
        if "pip" in names and "install" in words:
            after = words[words.index("install") + 1 :]
            targets.append([word for word in after if not word.startswith("-")])
    return targets


def readme_shell_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)
