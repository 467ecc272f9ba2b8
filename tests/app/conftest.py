"""App fixtures: services around the session's real Lite0 embedder, and a real uvicorn server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from app.config import Settings
from app.main import create_app
from app.server import server_options
from app.services import Services, build_services, open_store
from model.base import Embedder
from tests.app.browser import chromium_path, launch, open_page, watched_page


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings isolated from the environment of whoever runs the tests."""
    return Settings(data_dir=data_dir, seed_demo=False, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def make_services(lite0_embedder: Embedder) -> Iterator[Callable[[Settings], Services]]:
    """Services on a fresh store for given settings; closed at the end of the test."""
    opened: list[Services] = []

    def make(settings: Settings) -> Services:
        services = build_services(settings, lite0_embedder, open_store(settings, lite0_embedder))
        opened.append(services)
        return services

    yield make
    for services in opened:
        services.close()


class LiveServer:
    """A real uvicorn server on a free port in a background thread."""

    def __init__(self, settings: Settings, services: Services) -> None:
        self.app = create_app(settings, services)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="on", **server_options(settings)
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(60)
        self._sock.close()

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kwargs)  # type: ignore[arg-type]


@contextmanager
def live_server(settings: Settings, services: Services) -> Iterator[LiveServer]:
    server = LiveServer(settings, services).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def serving(
    settings: Settings, embedder: Embedder, stock: Callable[[Services], None] | None = None
) -> Iterator[LiveServer]:
    """A live server on fresh services; `stock` fills the catalog before it starts."""
    services = build_services(settings, embedder, open_store(settings, embedder))
    try:
        if stock is not None:
            stock(services)
        with live_server(settings, services) as running:
            yield running
    finally:
        services.close()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, lite0_embedder: Embedder
) -> Iterator[LiveServer]:
    """A live server on an empty catalog, one per module; modules that need a stocked one
    define their own `server`."""
    with serving(make_settings(tmp_path_factory.mktemp("data")), lite0_embedder) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium; the page tests skip, saying why, where it is not installed."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install chromium): no real browser")
    with sync_playwright() as playwright:
        running = launch(playwright, executable)
        yield running
        running.close()


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    """A fresh tab on the module's `server`, its scripts loaded; it must stay on this machine
    and log no script errors."""
    with watched_page(browser) as (tab, watch):
        open_page(tab, server.url)
        yield tab
        watch.assert_clean()


def wait_for_job(client: httpx.Client, job_id: str, timeout: float = 120) -> dict:
    """Poll a background add until it ends; its final status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/jobs/{job_id}").json()
        assert 0.0 <= status["progress"] <= 1.0
        if status["status"] in ("done", "failed"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still running after {timeout} s")


def add_video(client: httpx.Client, name: str, path: Path, **form: str) -> dict:
    """Add one video over HTTP and wait for its job; the job's final status, checked done."""
    files = {"files": (path.name, path.read_bytes(), "video/mp4")}
    answer = client.post("/titles", data={"name": name, **form}, files=files)
    assert answer.status_code == 202, answer.text
    job = wait_for_job(client, answer.json()["job_id"])
    assert job["status"] == "done", job
    return job
