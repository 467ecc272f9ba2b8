"""Keys (read or write, from settings and a file), /me, identify quotas, rate limits and the
upload cap, against real uvicorn servers."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.cli import main
from app.services import build_services, open_store
from model.base import Embedder
from synthetic import make_titles, render_frame, write_episode
from tests.app.conftest import LiveServer, live_server, make_settings
from tests.app.media import jpeg_bytes

WRITE_KEY = "write-key-0123456789"
READ_KEY = "read-key-0123456789"
ADMIN_KEY = "settings-key-0123456789"


@pytest.fixture(scope="module")
def shot() -> bytes:
    return jpeg_bytes(render_frame(make_titles(1, seed=41)[0], 1, 2.0, (320, 180)))


@pytest.fixture(scope="module")
def keys_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    entries = [
        {"name": "ops", "key": WRITE_KEY, "access": "write"},
        {"name": "bot", "key": READ_KEY, "access": "read", "identify_per_day": 2},
    ]
    path.write_text(json.dumps(entries))
    return path


@pytest.fixture
def serve(
    tmp_path: Path, lite0_embedder: Embedder
) -> Iterator[Callable[..., AbstractContextManager[LiveServer]]]:
    @contextmanager
    def start(**overrides: object) -> Iterator[LiveServer]:
        settings = make_settings(tmp_path / f"data-{len(list(tmp_path.iterdir()))}", **overrides)
        services = build_services(settings, lite0_embedder, open_store(settings, lite0_embedder))
        try:
            with live_server(settings, services) as running:
                yield running
        finally:
            services.close()

    yield start


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_read_and_write_keys_from_the_file_and_settings(
    serve, keys_file: Path, shot: bytes
) -> None:
    files = {"files": ("a.jpg", shot, "image/jpeg")}
    with serve(api_key=ADMIN_KEY, api_keys_file=keys_file) as server, server.client() as client:
        refused = client.post("/titles", data={"name": "A"}, files=files, headers=bearer(READ_KEY))
        assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
        assert client.post("/titles", data={"name": "A"}, files=files).status_code == 401
        unknown = client.get("/titles", headers=bearer("not-a-key-at-all"))
        assert unknown.status_code == 401 and unknown.headers["www-authenticate"] == "Bearer"
        added = client.post("/titles", data={"name": "A"}, files=files, headers=bearer(WRITE_KEY))
        assert added.status_code == 201, added.text
        title = added.json()["title_id"]
        assert client.get("/titles", headers=bearer(READ_KEY)).status_code == 200
        assert client.get("/titles").status_code == 200  # reads stay open by default
        assert client.delete(f"/titles/{title}", headers=bearer(READ_KEY)).status_code == 403
        assert client.delete(f"/titles/{title}", headers=bearer(ADMIN_KEY)).status_code == 204

        me = client.get("/me", headers=bearer(WRITE_KEY)).json()
        assert (me["key"], me["access"], me["writes_allowed"]) == ("ops", "write", True)
        anonymous = client.get("/me").json()
        assert (anonymous["key"], anonymous["access"], anonymous["writes_allowed"]) == (
            None,
            "anonymous",
            False,
        )


def test_identify_quota_per_key_shown_by_me(serve, keys_file: Path, shot: bytes) -> None:
    image = {"image": ("q.jpg", shot, "image/jpeg")}
    with serve(api_keys_file=keys_file) as server, server.client() as client:
        before = client.get("/me", headers=bearer(READ_KEY)).json()["identify"]
        assert (before["quota"], before["used"], before["remaining"]) == (2, 0, 2)
        for _ in range(2):
            assert client.post("/identify", files=image, headers=bearer(READ_KEY)).is_success
        over = client.post("/identify", files=image, headers=bearer(READ_KEY))
        assert over.status_code == 429 and over.json()["code"] == "quota_exceeded"
        assert 0 < int(over.headers["retry-after"]) <= 86400
        after = client.get("/me", headers=bearer(READ_KEY)).json()["identify"]
        assert (after["used"], after["remaining"]) == (2, 0)
        # Another caller has its own count; the write key has no quota at all.
        assert client.post("/identify", files=image, headers=bearer(WRITE_KEY)).is_success
        assert client.get("/me", headers=bearer(WRITE_KEY)).json()["identify"]["quota"] is None


def test_reads_need_a_key_when_the_operator_says_so(serve, keys_file: Path) -> None:
    with (
        serve(api_keys_file=keys_file, require_key_for_reads=True) as server,
        server.client() as client,
    ):
        assert client.get("/titles").status_code == 401
        assert client.get("/me").status_code == 401
        assert client.get("/titles", headers=bearer(READ_KEY)).status_code == 200
        assert client.get("/health").status_code == 200  # liveness stays open for probes
        spec = client.get("/openapi.json").json()
        assert "401" in spec["paths"]["/titles"]["get"]["responses"]


def test_rate_limit_per_client_with_retry_after(serve) -> None:
    with serve(rate_limit="5/minute") as server, server.client() as client:
        answers = [client.get("/titles") for _ in range(6)]
        assert [answer.status_code for answer in answers] == [200] * 5 + [429]
        assert answers[-1].json()["code"] == "rate_limited"
        assert 0 < int(answers[-1].headers["retry-after"]) <= 60
        assert client.get("/health").status_code == 200
        spec = client.get("/openapi.json").json()
        assert "429" in spec["paths"]["/identify"]["post"]["responses"]


def test_uploads_in_flight_are_capped(serve, shot: bytes) -> None:
    with serve(max_concurrent_uploads=1) as server, server.client() as client:
        url = urlsplit(server.url)
        with socket.create_connection((url.hostname, url.port), timeout=30) as slow:
            # An upload whose body is still coming: it holds the only slot.
            slow.sendall(
                f"POST /identify HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Length: 100000\r\n"
                "Content-Type: multipart/form-data; boundary=x\r\n\r\n--x\r\n".encode()
            )
            for _ in range(50):
                busy = client.post("/identify", files={"image": ("q.jpg", shot, "image/jpeg")})
                if busy.status_code == 503:
                    break
            assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        # The slot is given back when that client goes away.
        for _ in range(50):
            answer = client.post("/identify", files={"image": ("q.jpg", shot, "image/jpeg")})
            if answer.status_code == 200:
                break
        assert answer.status_code == 200


def test_a_broken_keys_file_stops_serve_in_one_line(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "keys.json"
    broken.write_text('[{"name": "no key"}]')
    monkeypatch.setenv("SHAZAM_API_KEYS_FILE", str(broken))
    status = main(["serve", "--data-dir", str(tmp_path / "d"), "--port", "1"])
    err = capsys.readouterr().err
    assert status == 1 and "cannot read the API keys file" in err and "Traceback" not in err
    assert not (tmp_path / "d").exists()


def test_slow_headers_are_dropped_and_a_stalled_body_is_a_408(serve) -> None:
    with serve(header_timeout=1.0, body_timeout=1.0) as server:
        url = urlsplit(server.url)
        with socket.create_connection((url.hostname, url.port), timeout=10) as trickle:
            trickle.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # headers never finish
            started = time.monotonic()
            assert trickle.recv(1024) == b""  # closed by the server
            assert time.monotonic() - started < 5
        with socket.create_connection((url.hostname, url.port), timeout=10) as stall:
            stall.sendall(
                f"POST /identify HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Length: 5000\r\n"
                "Content-Type: multipart/form-data; boundary=x\r\n\r\n--x\r\n".encode()
            )
            answer = stall.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"SHAZAM_BODY_TIMEOUT" in answer
        with server.client() as client:
            assert client.get("/health").status_code == 200


def test_a_full_job_queue_is_a_503_with_retry_after(serve, tmp_path: Path) -> None:
    video = tmp_path / "long.mp4"
    write_episode(make_titles(1, seed=43)[0], 1, video, seconds=20.0, fps=8, size=(320, 180))
    data = video.read_bytes()
    auth = bearer(ADMIN_KEY)
    with serve(api_key=ADMIN_KEY, max_queued_jobs=1) as server, server.client() as client:
        first = client.post(
            "/titles", data={"name": "Long"}, files={"files": ("a.mp4", data, "video/mp4")},
            headers=auth,
        )  # fmt: skip
        assert first.status_code == 202, first.text
        second = client.post(
            "/titles", data={"name": "Other"}, files={"files": ("b.mp4", data, "video/mp4")},
            headers=auth,
        )  # fmt: skip
        assert second.status_code == 503, second.text
        assert second.json()["code"] == "busy" and int(second.headers["retry-after"]) > 0
        assert "SHAZAM_MAX_QUEUED_JOBS" in second.json()["detail"]
        job = first.json()["job_id"]
        deadline = time.monotonic() + 120
        while client.get(f"/jobs/{job}").json()["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert client.get(f"/jobs/{job}").json()["status"] == "done"
        assert [title["name"] for title in client.get("/titles").json()] == ["Long"]
