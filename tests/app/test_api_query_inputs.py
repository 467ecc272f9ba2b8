"""Ways to send a query, over HTTP on a real server: a URL (form or query field) fetched from a
real local HTTP server, refused for private addresses unless allowed; a raw image body; a
video or an animated GIF answered from its frames; and CORS."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from app.services import Services, build_services, open_store
from model.base import Embedder
from synthetic import make_titles, render_frame, write_episode
from synthetic.titles import TitleStyle
from tests.app.conftest import LiveServer, add_video, live_server, make_settings
from tests.app.media import jpeg_bytes

SIZE = (320, 180)
MAX_UPLOAD = 400_000
FETCH_TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def style() -> TitleStyle:
    return make_titles(1, seed=31)[0]


@pytest.fixture(scope="module")
def services(
    tmp_path_factory: pytest.TempPathFactory, lite0_embedder: Embedder, style: TitleStyle
) -> Iterator[Services]:
    """One catalogued episode, shared by servers with different settings."""
    data_dir = tmp_path_factory.mktemp("data")
    settings = make_settings(data_dir, max_upload_bytes=MAX_UPLOAD)
    opened = build_services(settings, lite0_embedder, open_store(settings, lite0_embedder))
    video = tmp_path_factory.mktemp("videos") / "Show - 01.mp4"
    write_episode(style, 1, video, seconds=6.0, fps=12, size=SIZE)
    with live_server(settings, opened) as running, running.client() as client:
        add_video(client, style.name, video)
    yield opened
    opened.close()


def _server(services: Services, **settings: object) -> Iterator[LiveServer]:
    configured = make_settings(services.settings.data_dir, max_upload_bytes=MAX_UPLOAD, **settings)
    with live_server(configured, services) as running:
        yield running


@pytest.fixture(scope="module")
def open_server(services: Services) -> Iterator[LiveServer]:
    yield from _server(
        services,
        fetch_allow_private=True,
        fetch_timeout_s=FETCH_TIMEOUT_S,
        cors_origins="http://page.test",
    )


@pytest.fixture(scope="module")
def strict_server(services: Services) -> Iterator[LiveServer]:
    yield from _server(services)


class _Files(BaseHTTPRequestHandler):
    """A tiny web server: pictures, redirects, a loop, an oversize body, a 404."""

    pages: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path == "/slow.jpg":  # answers nothing until the fetch has given up
            time.sleep(FETCH_TIMEOUT_S * 3)
            return
        status, headers, body = self.pages.get(self.path, (404, {}, b"not here"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def web(style: TitleStyle) -> Iterator[str]:
    shot = jpeg_bytes(render_frame(style, 1, 2.5, SIZE))
    _Files.pages = {
        "/shot.jpg": (200, {"Content-Type": "image/jpeg"}, shot),
        "/unnamed": (200, {"Content-Type": "application/octet-stream"}, shot),
        "/moved": (302, {"Location": "/shot.jpg"}, b""),
        "/loop": (302, {"Location": "/loop"}, b""),
        "/big.jpg": (200, {"Content-Type": "image/jpeg"}, b"\xff" * (MAX_UPLOAD + 1)),
        "/page.html": (200, {"Content-Type": "text/html"}, b"<html>hello</html>"),
    }
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join(10)
    httpd.server_close()


def _matches(body: dict, style: TitleStyle, moment: float) -> bool:
    match = body["match"]
    return (
        match is not None
        and match["title"] == style.name
        and (match["from"] - 0.25 <= moment <= match["to"] + 0.25)
    )


@pytest.mark.parametrize("path", ["/shot.jpg", "/moved", "/unnamed"])
def test_a_url_is_fetched_as_a_form_or_query_field(
    open_server: LiveServer, web: str, style: TitleStyle, path: str
) -> None:
    with open_server.client() as client:
        as_form = client.post("/identify", data={"url": web + path})
        as_query = client.post("/identify", params={"url": web + path})
    for answer in (as_form, as_query):
        assert answer.status_code == 200, answer.text
        assert _matches(answer.json(), style, 2.5), answer.json()["match"]
        assert answer.json()["query_frame"] is None


@pytest.mark.parametrize(
    ("path", "status", "code", "says"),
    [
        ("/loop", 400, "fetch_failed", "redirects"),
        ("/slow.jpg", 400, "fetch_failed", "did not answer within"),
        ("/big.jpg", 413, "too_large", "limit"),
        ("/nothing", 400, "fetch_failed", "404"),
        ("/page.html", 415, "unsupported_media_type", "text/html"),
    ],
)
def test_a_url_that_cannot_be_used_gets_a_clear_4xx(
    open_server: LiveServer, web: str, path: str, status: int, code: str, says: str
) -> None:
    with open_server.client() as client:
        answer = client.post("/identify", data={"url": web + path})
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert says in answer.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "LOCAL/shot.jpg",  # the real local server: loopback
        "http://10.1.2.3/x.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x.jpg",
        "http://localhost/x.jpg",
        "file:///etc/passwd",
        "ftp://example.org/x.jpg",
    ],
)
def test_urls_inside_the_network_or_not_http_are_refused(
    strict_server: LiveServer, web: str, url: str
) -> None:
    with strict_server.client() as client:
        answer = client.post("/identify", data={"url": url.replace("LOCAL", web)})
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "url_refused"


def test_a_redirect_to_a_private_address_is_refused_at_that_hop(
    strict_server: LiveServer, open_server: LiveServer, web: str
) -> None:
    """Each hop is checked: here the first hop is already local, so the strict server refuses
    it, and the same redirect is followed where private addresses are allowed."""
    with strict_server.client() as client:
        assert client.post("/identify", data={"url": web + "/moved"}).json()["code"] == (
            "url_refused"
        )
    with open_server.client() as client:
        assert client.post("/identify", data={"url": web + "/moved"}).status_code == 200


def test_a_raw_image_body_is_a_query(strict_server: LiveServer, style: TitleStyle) -> None:
    with strict_server.client() as client:
        answer = client.post(
            "/identify",
            content=jpeg_bytes(render_frame(style, 1, 4.0, SIZE)),
            headers={"Content-Type": "image/jpeg"},
        )
        none = client.post("/identify")
        two = client.post(
            "/identify",
            data={"url": "http://example.org/a.jpg"},
            files={"image": ("a.jpg", jpeg_bytes(render_frame(style, 1, 4.0, SIZE)))},
        )
    assert answer.status_code == 200 and _matches(answer.json(), style, 4.0), answer.text
    for refused in (none, two):
        assert refused.status_code == 422 and refused.json()["code"] == "invalid_request"


def test_a_video_query_is_answered_from_its_frames(
    strict_server: LiveServer, style: TitleStyle, tmp_path: Path
) -> None:
    clip = tmp_path / "clip.mp4"
    write_episode(style, 1, clip, seconds=2.0, fps=8, size=SIZE)  # the episode's first 2 s
    with strict_server.client() as client:
        answer = client.post("/identify", files={"image": ("clip.mp4", clip.read_bytes())})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    frame = body["query_frame"]
    assert frame["kind"] == "video" and 1 <= frame["frames_tried"] <= 4
    assert 0.0 <= frame["time"] <= 2.0
    assert _matches(body, style, frame["time"]), (frame, body["match"])


def test_an_animated_gif_is_answered_from_its_frames(
    strict_server: LiveServer, style: TitleStyle
) -> None:
    frames = [render_frame(style, 1, t, SIZE) for t in (1.0, 1.5, 2.0, 2.5, 3.0)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=500)
    with strict_server.client() as client:
        answer = client.post(
            "/identify", files={"image": ("loop.gif", buffer.getvalue(), "image/gif")}
        )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    frame = body["query_frame"]
    assert frame["kind"] == "animation" and frame["frames_tried"] == 4
    assert frame["time"] == pytest.approx(frame["index"] * 0.5)
    assert _matches(body, style, 1.0 + frame["time"]), (frame, body["match"])


def test_cors_origins_come_from_settings_and_default_to_none(
    open_server: LiveServer, strict_server: LiveServer
) -> None:
    preflight = {
        "Origin": "http://page.test",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    with open_server.client() as client:
        allowed = client.options("/identify", headers=preflight)
        simple = client.get("/health", headers={"Origin": "http://page.test"})
        other = client.get("/health", headers={"Origin": "http://elsewhere.test"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://page.test"
    assert simple.headers["access-control-allow-origin"] == "http://page.test"
    assert "access-control-allow-origin" not in other.headers
    with strict_server.client() as client:
        closed = client.get("/health", headers={"Origin": "http://page.test"})
    assert "access-control-allow-origin" not in closed.headers


def test_the_query_image_size_limit_holds_for_raw_bodies(strict_server: LiveServer) -> None:
    big = Image.effect_noise((1400, 1400), 100).convert("RGB")
    with strict_server.client() as client:
        answer = client.post(
            "/identify", content=jpeg_bytes(big, 98), headers={"Content-Type": "image/jpeg"}
        )
    assert answer.status_code == 413 and answer.json()["code"] == "too_large"
