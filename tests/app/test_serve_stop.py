"""`shazam-anime serve` as a real process: SIGTERM (what `docker stop` sends) finishes the
running job, saves the index and exits 0, so the next start has nothing to repair."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from index.store.checkpoint import META_FILE
from synthetic import make_titles, render_frame, write_episode
from tests.app.media import jpeg_bytes

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(data_dir: Path, cache_dir: Path, **env: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """`serve` in a child process on a free loopback port, until it answers /health."""
    port = free_port()
    command = [
        sys.executable,
        "-c",
        "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))",
        "serve",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
        "--no-demo",
    ]
    child_env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "SHAZAM_CACHE_DIR": str(cache_dir),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **env,
    }
    child = subprocess.Popen(
        command,
        cwd=REPO,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert child.poll() is None, child.communicate()[0]
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.3)
        yield child, url
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()


def stop(child: subprocess.Popen) -> tuple[int, str]:
    child.send_signal(signal.SIGTERM)
    output, _ = child.communicate(timeout=120)
    return child.returncode, output


def test_sigterm_saves_the_index_and_finishes_the_running_job(
    tmp_path: Path, model_cache_dir: Path
) -> None:
    first, second = make_titles(2, seed=31)
    shots = [jpeg_bytes(render_frame(first, 1, t, (320, 180))) for t in (1.0, 3.0, 5.0)]
    video = tmp_path / "ep.mp4"
    write_episode(second, 1, video, seconds=6, fps=8, size=(320, 180))
    data_dir = tmp_path / "data"
    with serving(data_dir, model_cache_dir) as (child, url):
        files = [("files", (f"{i}.jpg", shot, "image/jpeg")) for i, shot in enumerate(shots)]
        added = httpx.post(f"{url}/titles", data={"name": "Stills"}, files=files, timeout=60)
        assert added.status_code == 201, added.text
        job = httpx.post(
            f"{url}/titles",
            data={"name": "Moving"},
            files={"files": ("ep.mp4", video.read_bytes(), "video/mp4")},
            timeout=60,
        )
        assert job.status_code == 202, job.text
        status, output = stop(child)  # while the video job is queued or running

    assert status == 0, output
    assert "Traceback" not in output
    frames = {title["name"]: title["frames"] for title in _titles(data_dir)}
    assert frames["Stills"] == 3
    assert frames.get("Moving", 0) > 0, "the running job was finished before exit"
    # The checkpoint holds every frame: the next start has nothing to repair.
    assert json.loads((data_dir / META_FILE).read_text())["count"] == sum(frames.values())

    with serving(data_dir, model_cache_dir) as (child, url):
        # The job's outcome outlives the process that ran it.
        outcome = httpx.get(f"{url}/jobs/{job.json()['job_id']}").json()
        assert outcome["status"] == "done" and outcome["frames_added"] == frames["Moving"]
        status, output = stop(child)
    assert status == 0
    assert "repaired" not in output and "rebuilt" not in output and "missing" not in output


def _titles(data_dir: Path) -> list[dict]:
    listing = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))",
            "index",
            "list",
            "--json",
            "--data-dir",
            str(data_dir),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(listing.stdout)


def test_kill_9_mid_job_leaves_nothing_half_written_and_the_job_failed(
    tmp_path: Path, model_cache_dir: Path
) -> None:
    style = make_titles(1, seed=33)[0]
    video = tmp_path / "long.mp4"
    write_episode(style, 1, video, seconds=40, fps=8, size=(320, 180))
    shot = jpeg_bytes(render_frame(style, 2, 1.0, (320, 180)))
    data_dir = tmp_path / "data"
    with serving(data_dir, model_cache_dir) as (child, url):
        kept = httpx.post(
            f"{url}/titles",
            data={"name": "Kept"},
            files={"files": ("k.jpg", shot, "image/jpeg")},
            timeout=60,
        )
        assert kept.status_code == 201, kept.text
        job = httpx.post(
            f"{url}/titles",
            data={"name": "Cut"},
            files={"files": ("long.mp4", video.read_bytes(), "video/mp4")},
            timeout=60,
        ).json()["job_id"]
        deadline = time.monotonic() + 120
        while httpx.get(f"{url}/jobs/{job}").json()["frames_added"] == 0:
            assert time.monotonic() < deadline, "the job never started embedding"
            time.sleep(0.05)
        child.kill()  # SIGKILL mid-job: no shutdown code runs at all
        child.communicate()

    with serving(data_dir, model_cache_dir) as (child, url):
        outcome = httpx.get(f"{url}/jobs/{job}").json()
        assert outcome["status"] == "failed" and outcome["frames_added"] == 0
        assert "nothing of it was added" in outcome["error"]
        titles = httpx.get(f"{url}/titles").json()
        assert [(title["name"], title["frames"]) for title in titles] == [("Kept", 1)]
        assert httpx.get(f"{url}/health").json()["frames"] == 1
        assert not any((data_dir / "uploads").glob("*/*")), "the spooled video was left behind"
        stop(child)
