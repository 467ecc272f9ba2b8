"""Serving footprint and start: install size without TensorFlow, cold start, first identify.

Side by side in one run:
- install size: the installed files of the serving install (`pip install .`: LiteRT) against
  the quick start's (`pip install '.[tf]'`: TensorFlow too), summed from the installed
  distributions' file lists (the Docker runtime stage ships the former; add about 150 MB for the
  `python:3.11-slim-bookworm` base);
- cold model load in a fresh process: the served LiteRT model against the same model on Keras;
- `shazam-anime serve` from process start to a healthy `/health`, the first `POST /identify`
  after that, and whether the server process mapped any TensorFlow library.

Run from the repo root: `.venv/bin/python -m bench.serving [--cache-dir DIR]` (the model must be
prepared: `shazam-anime prepare-model`).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from importlib import metadata
from pathlib import Path

import httpx
from packaging.requirements import Requirement

from app.config import Settings
from app.services import open_services
from synthetic.render import render_frame
from synthetic.titles import make_titles

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "shazam-anime"
MODEL = "efficientnet-lite0"


def project_requirements(extras: frozenset[str] = frozenset()) -> list[tuple[str, frozenset]]:
    """This checkout's requirements (pyproject.toml, not a possibly stale installed copy), with
    the extras it names, its own extras (`shazam-anime[tf]`) expanded."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines, todo, done = list(project["dependencies"]), list(extras), set()
    while todo:
        extra = todo.pop()
        done.add(extra)
        for line in project["optional-dependencies"][extra]:
            requirement = Requirement(line)
            if requirement.name == PROJECT:
                todo += [e for e in requirement.extras if e not in done]
            else:
                lines.append(line)
    requirements = [Requirement(line) for line in lines]
    return [
        (r.name, frozenset(r.extras)) for r in requirements if not r.marker or r.marker.evaluate()
    ]


def closure(requirements: list[tuple[str, frozenset]]) -> set[str]:
    """Installed distributions these requirements pull in (normalised names)."""
    seen: set[str] = set()
    todo = list(requirements)
    while todo:
        current, wanted = todo.pop()
        try:
            dist = metadata.distribution(current)
        except metadata.PackageNotFoundError:
            continue
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in seen and not wanted:
            continue
        seen.add(key)
        for line in dist.requires or []:
            requirement = Requirement(line)
            envs = [{"extra": extra} for extra in wanted] or [{"extra": ""}]
            if requirement.marker and not any(requirement.marker.evaluate(e) for e in envs):
                continue
            todo.append((requirement.name, frozenset(requirement.extras)))
    return seen


def installed_bytes(names: set[str]) -> int:
    total = 0
    for name in names:
        for file in metadata.distribution(name).files or []:
            path = Path(file.locate())
            if path.is_file():
                total += path.stat().st_size
    return total


def _python(code: str, env: dict[str, str]) -> float:
    """Seconds a fresh interpreter takes to run `code` (imports included)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)
    return time.perf_counter() - started


def _jpeg(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_cold(settings: Settings, query: bytes, env: dict[str, str]) -> dict[str, object]:
    """Start `serve` on a stocked catalog; time /health and the first identifies."""
    port = _free_port()
    argv = [sys.executable, "-m", "app.cli", "serve", "--no-demo", "--port", str(port)]
    argv += ["--data-dir", str(settings.data_dir), "--cache-dir", str(settings.cache_dir)]
    started = time.perf_counter()
    server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"server exited with {server.returncode}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        healthy = time.perf_counter() - started
        timings = []
        for _ in range(3):
            began = time.perf_counter()
            answer = httpx.post(
                f"{url}/identify", files={"image": ("q.jpg", query, "image/jpeg")}, timeout=60
            )
            answer.raise_for_status()
            timings.append(time.perf_counter() - began)
        maps = Path(f"/proc/{server.pid}/maps")
        tensorflow = "tensorflow/" in maps.read_text() if maps.exists() else None
    finally:
        server.terminate()
        server.wait(60)
    return {
        "start_to_healthy_s": round(healthy, 2),
        "first_identify_s": round(timings[0], 3),
        "start_to_first_answer_s": round(healthy + timings[0], 2),
        "later_identify_ms": [round(t * 1e3, 1) for t in timings[1:]],
        "answer": (answer.json().get("match") or {}).get("title"),
        "server_mapped_tensorflow": tensorflow,
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Print and return the install sizes, cold loads and the cold `serve` timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args(argv)
    results: dict[str, object] = {"cpus": os.cpu_count()}

    serving = closure(project_requirements())
    full = closure(project_requirements(frozenset({"tf"})))
    results["install_mb"] = {
        "serving": round(installed_bytes(serving) / 1e6),
        "with_tensorflow": round(installed_bytes(full) / 1e6),
        "packages_serving": len(serving),
        "packages_with_tensorflow": len(full),
        "largest_dropped": sorted(full - serving),
    }
    print(json.dumps(results["install_mb"], indent=2), flush=True)

    env = {k: v for k, v in os.environ.items() if not k.startswith("SHAZAM_")}
    env.update(PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    cache = str(args.cache_dir or Settings().resolved_cache_dir)
    load = "from pathlib import Path; from model.registry import load_embedder; "
    loads: dict[str, list[float]] = {"litert": [], "keras": []}
    for _ in range(3):  # alternating, so machine load hits both alike
        for runtime in loads:
            code = f"{load}load_embedder('{MODEL}', Path({cache!r}), runtime={runtime!r})"
            loads[runtime].append(_python(code, env))
    results["cold_load_s"] = {name: round(min(t), 2) for name, t in loads.items()}
    print(json.dumps(results["cold_load_s"]), flush=True)

    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(data_dir=Path(scratch), cache_dir=Path(cache), seed_demo=False)
        styles = make_titles(3, seed=11)
        services = open_services(settings)
        try:
            for style in styles:
                frames = [render_frame(style, 1, t) for t in (1.0, 3.0, 5.0, 7.0)]
                folder = Path(scratch) / "frames" / style.name
                folder.mkdir(parents=True)
                for number, frame in enumerate(frames):
                    frame.save(folder / f"{number}.png")
                services.ingestor.ingest(style.name, [folder])
        finally:
            services.close()
        query = _jpeg(render_frame(styles[1], 1, 5.0, (1280, 720)))
        results["serve"] = serve_cold(settings, query, env)
        results["serve"]["expected"] = styles[1].name
    print(json.dumps(results["serve"], indent=2), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
