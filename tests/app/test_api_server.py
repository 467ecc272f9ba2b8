"""End to end over HTTP against a real uvicorn server: video adds as jobs (all-or-nothing),
identify of perturbed screenshots and under load, a client that vanishes after uploading, and a
restart on the same data dir."""

from __future__ import annotations

import random
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image

from app.services import build_services, open_store
from index.ingest.episodes import parse_episode
from model.base import Embedder
from synthetic import (
    apply_perturbations,
    make_titles,
    render_frame,
    write_corrupt_video,
    write_episode,
)
from synthetic.pictures import picture_in_picture
from synthetic.titles import TitleStyle
from tests.app.conftest import LiveServer, live_server, make_settings, wait_for_job
from tests.app.media import jpeg_bytes

VIDEO_NAME = "Show - 03.mp4"
SECONDS = 8.0
QUERY_TIMES = (1.5, 4.0, 6.5)
# How real screenshots differ from the reference frames, beyond compression (synthetic.perturb).
SCREENSHOT_PERTURBATIONS = ("flip", "letterbox", "player_window")
SIZE = (640, 360)


@pytest.fixture(scope="module")
def styles() -> list[TitleStyle]:
    return make_titles(4, seed=5)


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory, styles: list[TitleStyle]) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    write_episode(styles[0], 3, folder / VIDEO_NAME, seconds=SECONDS, fps=12, size=SIZE)
    # Long enough, sampled densely, that identify overlaps its ingestion.
    write_episode(styles[1], 1, folder / "long.mp4", seconds=30.0, fps=8, size=(480, 270))
    return {"main": folder / VIDEO_NAME, "long": folder / "long.mp4"}


def _query(
    style: TitleStyle, episode: int, t: float, seed: int = 0, perturbations: tuple = ("jpeg25",)
) -> dict:
    image: Image.Image = render_frame(style, episode, t, SIZE)
    image = apply_perturbations(image, list(perturbations), random.Random(seed))
    return {"image": ("screenshot.jpg", jpeg_bytes(image), "image/jpeg")}


def _add_video(client: httpx.Client, name: str, *paths: Path, **form: str) -> str:
    files = [("files", (path.name, path.read_bytes(), "video/mp4")) for path in paths]
    answer = client.post("/titles", data={"name": name, **form}, files=files)
    assert answer.status_code == 202, answer.text
    return answer.json()["job_id"]


def _ensure_main_video(client: httpx.Client, style: TitleStyle, videos: dict[str, Path]) -> None:
    """Tests may run alone: add the main episode unless an earlier test of the module did."""
    if style.name not in {title["name"] for title in client.get("/titles").json()}:
        assert wait_for_job(client, _add_video(client, style.name, videos["main"]))["status"] == (
            "done"
        )


def test_a_video_is_added_in_the_background_and_answers_episode_and_second(
    server: LiveServer, styles: list[TitleStyle], videos: dict[str, Path]
) -> None:
    with server.client() as client:
        job = wait_for_job(client, _add_video(client, styles[0].name, videos["main"]))
        assert job["status"] == "done", job
        assert job["frames_added"] > 0 and job["error"] is None
        for t in QUERY_TIMES:
            answer = client.post("/identify", files=_query(styles[0], 3, t)).json()
            match = answer["match"]
            assert match is not None, answer
            assert match["title"] == styles[0].name
            assert match["episode"] == parse_episode(VIDEO_NAME)
            assert abs(match["timestamp"] - t) <= 1.0, (t, match)
            assert answer["neighbors"][0]["timestamp"] is not None
        titles = client.get("/titles").json()
        assert [(t["name"], t["frames"], t["episodes"]) for t in titles] == [
            (styles[0].name, job["frames_added"], 1)
        ]
        assert not any((server.app.state.settings.data_dir / "uploads").iterdir())


@pytest.mark.parametrize("perturbation", SCREENSHOT_PERTURBATIONS)
def test_perturbed_screenshots_are_identified_at_their_second(
    server: LiveServer, styles: list[TitleStyle], videos: dict[str, Path], perturbation: str
) -> None:
    with server.client() as client:
        _ensure_main_video(client, styles[0], videos)
        for seed, t in enumerate(QUERY_TIMES):
            query = _query(styles[0], 3, t, seed=seed, perturbations=(perturbation,))
            answer = client.post("/identify", files=query).json()
            match = answer["match"]
            assert match is not None, (perturbation, t, answer)
            assert match["title"] == styles[0].name
            assert match["episode"] == parse_episode(VIDEO_NAME)
            assert abs(match["timestamp"] - t) <= 1.0, (perturbation, t, match)


def test_an_answer_says_when_it_came_from_a_picture_inside_the_picture(
    server: LiveServer, styles: list[TitleStyle], videos: dict[str, Path]
) -> None:
    """A frame in a window over another picture is found through the window (`match.view`
    "inner", or "rectified" when its edges lean a pixel); a plain screenshot is answered as sent
    ("full")."""
    frame = render_frame(styles[0], 3, QUERY_TIMES[1], SIZE)
    window = picture_in_picture(frame, random.Random(2))
    with server.client() as client:
        _ensure_main_video(client, styles[0], videos)
        plain = client.post("/identify", files=_query(styles[0], 3, QUERY_TIMES[1])).json()
        inner = client.post(
            "/identify", files={"image": ("stream.jpg", jpeg_bytes(window), "image/jpeg")}
        ).json()
    assert plain["match"]["view"] == "full", plain
    assert inner["match"] is not None, inner
    assert inner["match"]["title"] == styles[0].name
    assert inner["match"]["view"] in ("inner", "rectified"), inner["match"]
    assert abs(inner["match"]["timestamp"] - QUERY_TIMES[1]) <= 1.0, inner["match"]


def test_a_failed_multi_video_add_leaves_the_catalog_as_it_was(
    server: LiveServer, styles: list[TitleStyle], tmp_path: Path
) -> None:
    good = tmp_path / "good.mp4"
    write_episode(styles[3], 1, good, seconds=3.0, fps=8, size=(320, 180))
    broken = write_corrupt_video(tmp_path / "broken.mp4", kind="cut")  # decodes a few, then fails
    with server.client() as client:
        titles_before = client.get("/titles").json()
        job = wait_for_job(client, _add_video(client, styles[3].name, good, broken))
        assert job["status"] == "failed", job
        assert "broken.mp4" in job["error"] and "good.mp4" not in job["error"], job
        assert job["frames_added"] == 0 and job["title_id"] is None
        assert client.get("/titles").json() == titles_before
        answer = client.post("/identify", files=_query(styles[3], 1, 1.5)).json()
        assert (answer["match"] or {}).get("title") != styles[3].name, answer
        assert all(hit["title"] != styles[3].name for hit in answer["neighbors"])
        assert not any((server.app.state.settings.data_dir / "uploads").iterdir())


@pytest.mark.slow
def test_identify_keeps_answering_while_a_video_is_added(
    server: LiveServer, styles: list[TitleStyle], videos: dict[str, Path]
) -> None:
    with server.client() as client:
        _ensure_main_video(client, styles[0], videos)
        queries = [_query(styles[0], 3, t, seed=i) for i, t in enumerate(QUERY_TIMES)]
        job_id = _add_video(client, styles[1].name, videos["long"], fps="6")

    done = threading.Event()
    failures: list[str] = []
    latencies: list[float] = []
    states_seen: set[str] = set()
    running_frames: list[int] = []

    def ask(worker: int) -> None:
        with server.client() as client:
            count = 0
            while not done.is_set() or count < 2:
                started = time.perf_counter()
                answer = client.post("/identify", files=queries[(worker + count) % len(queries)])
                latencies.append(time.perf_counter() - started)
                count += 1
                if answer.status_code != 200:
                    failures.append(f"{answer.status_code}: {answer.text}")
                elif (answer.json()["match"] or {}).get("title") != styles[0].name:
                    failures.append(f"wrong answer {answer.json()['match']}")

    workers = [threading.Thread(target=ask, args=(i,)) for i in range(3)]
    for worker in workers:
        worker.start()
    with server.client() as client:
        deadline = time.monotonic() + 180
        while (status := client.get(f"/jobs/{job_id}").json())["status"] in ("queued", "running"):
            states_seen.add(status["status"])
            if status["status"] == "running":
                running_frames.append(status["frames_added"])
            assert time.monotonic() < deadline, "ingestion did not finish"
            time.sleep(0.1)
    done.set()
    for worker in workers:
        worker.join(60)
    assert status["status"] == "done", status
    assert "running" in states_seen  # the queries really overlapped the ingestion
    # The count of frames embedded so far rises while the job runs, up to what was added.
    assert running_frames == sorted(running_frames), running_frames
    assert 0 < max(running_frames) <= status["frames_added"], (running_frames, status)
    assert not failures, failures[:3]
    assert len(latencies) >= 6
    assert max(latencies) < 8.0, f"an identify stalled for {max(latencies):.1f} s"


def test_a_client_that_vanishes_after_uploading_still_gets_its_video_added(
    server: LiveServer, styles: list[TitleStyle], tmp_path: Path
) -> None:
    video = tmp_path / "gone.mp4"
    write_episode(styles[2], 2, video, seconds=2.0, fps=8, size=(320, 180))
    boundary = "vanishing-client"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n{styles[2].name}'
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            'filename="gone.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
        ).encode()
        + video.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    address = urlsplit(server.url)
    with socket.create_connection((address.hostname, address.port)) as raw:
        raw.sendall(
            (
                f"POST /titles HTTP/1.1\r\nHost: {address.netloc}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
        )
        for start in range(0, len(body), 4096):  # a slow client...
            raw.sendall(body[start : start + 4096])
            time.sleep(0.005)
    # ...that hangs up without reading the answer.
    with server.client() as client:
        deadline = time.monotonic() + 60
        while True:
            names = {title["name"]: title for title in client.get("/titles").json()}
            if styles[2].name in names and names[styles[2].name]["frames"] > 0:
                break
            assert time.monotonic() < deadline, "the abandoned upload was never ingested"
            time.sleep(0.2)


@pytest.mark.slow
def test_a_restart_on_the_same_data_dir_gives_the_same_answers(
    tmp_path: Path, lite0_embedder: Embedder, styles: list[TitleStyle], videos: dict[str, Path]
) -> None:
    settings = make_settings(tmp_path)
    queries = [_query(styles[0], 3, t) for t in QUERY_TIMES]

    def serve_and_ask(add: bool) -> list[dict]:
        services = build_services(settings, lite0_embedder, open_store(settings, lite0_embedder))
        try:
            with live_server(settings, services) as running, running.client() as client:
                if add:
                    job = wait_for_job(client, _add_video(client, styles[0].name, videos["main"]))
                    assert job["status"] == "done"
                answers = [client.post("/identify", files=query).json() for query in queries]
        finally:
            services.close()
        for answer in answers:
            answer.pop("took_ms")
        return answers

    before = serve_and_ask(add=True)
    after = serve_and_ask(add=False)
    assert all(answer["match"] is not None for answer in before)
    assert after == before


def test_a_declared_oversize_body_is_refused_before_it_is_sent(server: LiveServer) -> None:
    address = urlsplit(server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as raw:
        raw.sendall(
            (
                f"POST /identify HTTP/1.1\r\nHost: {address.netloc}\r\n"
                "Content-Type: multipart/form-data; boundary=x\r\n"
                "Content-Length: 1000000000\r\n\r\n"
            ).encode()
        )
        reply = raw.recv(65536)  # answered at once: the server never waits for the gigabyte
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b"request body is over" in reply
