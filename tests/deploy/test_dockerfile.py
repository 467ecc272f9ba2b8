"""Dockerfile: converts the model with TensorFlow in the builder, ships LiteRT without it,
non-root, checks /health."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch

import pytest

from app.cli import build_parser
from tests.deploy.parsing import (
    ROOT,
    dockerfile_stages,
    pip_install_targets,
    readme_shell_blocks,
    settings_env_names,
)


@pytest.fixture(scope="module")
def stages() -> list[list[tuple[str, str]]]:
    return dockerfile_stages((ROOT / "Dockerfile").read_text())


def _all(stages, instruction: str) -> list[str]:
    return [args for stage in stages for name, args in stage if name == instruction]


def _env(stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, args in stage:
        if name == "ENV":
            env.update(pair.split("=", 1) for pair in args.split())
    return env


def test_base_image_is_python_311_slim_bookworm(stages) -> None:
    for stage in stages:
        assert stage[0][1].split()[0] == "python:3.11-slim-bookworm"


def test_ships_the_serving_install_and_converts_with_what_the_readme_installs(stages) -> None:
    """The runtime image gets the plain install (LiteRT, no TensorFlow); the model is converted
    in the builder with the README's install (TensorFlow included), which is not shipped."""
    build, final = stages[0], stages[-1]
    installs = [
        (run.split("/bin/pip")[0].split()[-1], targets)
        for name, run in build
        if name == "RUN"
        for targets in pip_install_targets(run)
    ]
    readme = (ROOT / "README.md").read_text()
    serve_command = next(
        line
        for block in readme_shell_blocks(readme)
        for line in block.splitlines()
        if line.endswith("shazam-anime serve")
    )
    assert installs == [("/opt/venv", ["."]), ("/opt/convert", *pip_install_targets(serve_command))]
    shipped = [args for name, args in final if name == "COPY"]
    assert "--from=build /opt/venv /opt/venv" in shipped
    assert not any("/opt/convert" in args for args in shipped)
    assert "tensorflow" not in " ".join(pyproject_dependencies())
    assert _env(build)["HNSWLIB_NO_NATIVE"] == "1"  # portable: no -march=native in the image


def pyproject_dependencies() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def test_every_package_the_project_ships_is_copied_in(stages) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if any(fnmatch(path.parent.name, pattern) for pattern in patterns)
    }
    copied = {args.split()[0] for args in _all(stages, "COPY") if "--from" not in args}
    assert packages and packages <= copied
    assert {"pyproject.toml", "README.md"} <= set(" ".join(_all(stages, "COPY")).split())


def test_model_is_baked_in_at_build_time(stages) -> None:
    build, final = stages[0], stages[-1]
    runs = [args for name, args in build if name == "RUN"]
    install = next(i for i, run in enumerate(runs) if pip_install_targets(run))
    prepare = next(i for i, run in enumerate(runs) if "/shazam-anime prepare-model" in run)
    assert install < prepare
    assert "prepare-model" in _subcommands()
    cache = _env(build)["SHAZAM_CACHE_DIR"]
    assert _env(final)["SHAZAM_CACHE_DIR"] == cache
    assert any(args.endswith(f"{cache} {cache}") for name, args in final if name == "COPY")


def test_runtime_settings_user_volume_and_command(stages) -> None:
    final = stages[-1]
    env = _env(final)
    assert env["SHAZAM_HOST"] == "0.0.0.0" and env["SHAZAM_DATA_DIR"] == "/data"
    assert {name for name in env if name.startswith("SHAZAM_")} <= settings_env_names()
    users = [args for name, args in final if name == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any("/data" in args for name, args in final if name == "VOLUME")
    assert [args for name, args in final if name == "CMD"][-1] == '["shazam-anime", "serve"]'


def test_healthcheck_uses_health_without_curl(stages) -> None:
    (check,) = [args for name, args in stages[-1] if name == "HEALTHCHECK"]
    assert "/health" in check and "urllib.request" in check and "curl" not in check


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "data"} <= ignored
    assert not ignored & {"README.md", "pyproject.toml", "app", "model", "index"}


def _subcommands() -> set[str]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return set(action.choices)


def test_exposed_port_matches_settings(stages) -> None:
    final = stages[-1]
    exposed = [args for name, args in final if name == "EXPOSE"]
    assert exposed == [_env(final)["SHAZAM_PORT"]]
    assert re.fullmatch(r"\d+", exposed[0])
