"""Hostile and careless input against a real uvicorn server: ids beyond int64, names made of
control characters, errors that must not reveal server paths, and the HTTP methods and OpenAPI
document matching what the server does."""

from __future__ import annotations

import select
import socket
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil
import pytest

from app.services import build_services, open_store
from model.base import Embedder
from synthetic import make_titles, render_frame, write_corrupt_video
from tests.app.conftest import LiveServer, live_server, make_settings
from tests.app.media import jpeg_bytes, rgba16_png


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hardening-data")


@pytest.fixture(scope="module")
def server(data_dir: Path, lite0_embedder: Embedder) -> Iterator[LiveServer]:
    settings = make_settings(data_dir)
    services = build_services(settings, lite0_embedder, open_store(settings, lite0_embedder))
    with live_server(settings, services) as running:
        yield running
    services.close()


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as opened:
        yield opened


@pytest.fixture(scope="module")
def shot() -> bytes:
    return jpeg_bytes(render_frame(make_titles(1, seed=21)[0], 1, 2.0, (320, 180)))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/titles/9223372036854775808"),
        ("DELETE", "/titles/9223372036854775808"),
        ("GET", "/frames/18446744073709551616/thumbnail"),
        ("GET", "/titles/-1"),
    ],
)
def test_ids_beyond_int64_are_a_4xx(client: httpx.Client, method: str, path: str) -> None:
    answer = client.request(method, path)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid_request"
    assert "9223372036854775807" in answer.json()["detail"] or "0" in answer.json()["detail"]


def test_largest_int64_id_is_a_plain_404(client: httpx.Client) -> None:
    assert client.get("/titles/9223372036854775807").status_code == 404
    assert client.get("/frames/9223372036854775807/thumbnail").status_code == 404


@pytest.mark.parametrize(
    "name",
    ["\x1c", "\u200b", "a\x00b", "\x1b[31mred\x1b[0m", "\u202eevil", "two\nlines", "\u200b\u200c"],
)
def test_names_with_control_or_invisible_characters_are_refused(
    client: httpx.Client, shot: bytes, name: str
) -> None:
    answer = client.post(
        "/titles", data={"name": name}, files={"files": ("a.jpg", shot, "image/jpeg")}
    )
    assert answer.status_code == 400, answer.text
    assert "character" in answer.json()["detail"]
    assert all(title["name"] != name for title in client.get("/titles").json())


def test_names_are_normalised_and_given_back_as_stored(client: httpx.Client, shot: bytes) -> None:
    answer = client.post(
        "/titles",
        data={"name": "  ｆｕｌｌ   Ｗｉｄｔｈ\u3000Show "},
        files={"files": ("a.jpg", shot, "image/jpeg")},
    )
    assert answer.status_code == 201, answer.text
    added = answer.json()
    assert added["name"] == "full Width Show"
    assert client.get(f"/titles/{added['title_id']}").json()["name"] == "full Width Show"
    assert client.delete(f"/titles/{added['title_id']}").status_code == 204


def test_unreadable_video_error_names_no_server_path(
    client: httpx.Client, data_dir: Path, tmp_path: Path
) -> None:
    video = write_corrupt_video(tmp_path / "broken.mp4", kind="truncated")
    answer = client.post(
        "/titles",
        data={"name": "Broken"},
        files={"files": ("broken.mp4", video.read_bytes(), "video/mp4")},
    )
    assert answer.status_code == 400, answer.text
    detail = answer.json()["detail"]
    assert "broken.mp4" in detail
    assert str(data_dir) not in detail and "/uploads/" not in detail


def test_a_huge_field_is_not_echoed_back(client: httpx.Client, shot: bytes) -> None:
    huge = "A" * (1 << 20)
    answer = client.post(
        "/titles", data={"name": huge}, files={"files": ("a.jpg", shot, "image/jpeg")}
    )
    assert answer.status_code == 422
    assert len(answer.content) < 1000 and "AAAAAAAAAA" not in answer.text


def test_head_and_options_follow_the_routes(client: httpx.Client) -> None:
    head = client.head("/titles")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(client.get("/titles").content)

    options = client.options("/titles/1")
    assert options.status_code == 204
    assert set(options.headers["allow"].split(", ")) == {
        "GET",
        "PATCH",
        "DELETE",
        "HEAD",
        "OPTIONS",
    }
    assert client.options("/identify").headers["allow"] == "POST, OPTIONS"
    assert client.head("/identify").status_code == 405
    assert client.options("/no/such/path").status_code == 404
    assert client.options("/web/style.css").headers["allow"] == "GET, HEAD, OPTIONS"


def test_openapi_documents_the_refusals(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    writes = [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("post", "put", "patch", "delete") and path != "/identify"
    ]
    assert {(path, method) for path, method, _ in writes} >= {
        ("/titles", "post"),
        ("/titles/{title_id}", "delete"),
    }
    for path, method, operation in writes:
        assert "401" in operation["responses"], (path, method)
    body = spec["paths"]["/titles"]["post"]["requestBody"]["content"]["multipart/form-data"]
    ref = body["schema"]["$ref"].rsplit("/", 1)[1]
    assert spec["components"]["schemas"][ref]["properties"]["files"]["minItems"] == 1


@pytest.mark.slow
def test_a_16_bit_rgba_png_under_the_pixel_limit_costs_no_memory(client: httpx.Client) -> None:
    """6000x6600 is under the 40 Mpx limit but would take 158 MB decoded: six at once are
    refused from the header, and the server (this process) does not grow."""
    data = rgba16_png(6000, 6600)
    process = psutil.Process()
    before = process.memory_info().rss

    def send(_: int) -> httpx.Response:
        return client.post("/identify", files={"image": ("big.png", data, "image/png")})

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(send, range(6)))
    assert {answer.status_code for answer in answers} == {413}
    assert "SHAZAM_MAX_IMAGE_BYTES" in answers[0].json()["detail"]
    assert process.memory_info().rss - before < 100 * 1024 * 1024


def stream_until_answered(
    server_url: str, boundary: str, length: int, head: bytes, pieces: Iterable[bytes]
) -> tuple[bytes, int]:
    """POST /titles a multipart body piece by piece, as a slow client would, stopping when the
    server answers; returns the answer's first bytes and how many pieces went out."""
    url = urlsplit(server_url)
    sent = 0
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(
            (
                f"POST /titles HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {length}\r\n\r\n"
            ).encode()
            + head
        )
        for piece in pieces:
            try:
                sock.sendall(piece)
            except OSError:
                break  # the server closed the connection after answering
            sent += 1
            if select.select([sock], [], [], 0.01)[0]:
                break
        sock.settimeout(10)
        return sock.recv(65536), sent


def test_too_many_files_are_refused_while_the_body_streams(server: LiveServer) -> None:
    """1000 parts of 100 KB are announced; the answer comes after about 33 of them are sent."""
    boundary = "hardening-boundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nMany\r\n'
    parts = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{number}.jpg"'
        "\r\nContent-Type: image/jpeg\r\n\r\n".encode()
        + b"\xff" * 100_000
        + b"\r\n"
        for number in range(1000)
    )
    answer, sent = stream_until_answered(server.url, boundary, 1000 * 100_200, head.encode(), parts)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"Maximum number of files is 32" in answer
    assert sent < 200, f"the server read {sent} parts before refusing"


def test_an_oversize_image_part_is_refused_while_it_streams(
    data_dir: Path, lite0_embedder: Embedder
) -> None:
    """A 1 MB image limit: a part declared image/jpeg is cut off once it passes 1 MB, long
    before the 60 MB the request announces."""
    settings = make_settings(data_dir / "small", max_upload_bytes=1_000_000)
    services = build_services(settings, lite0_embedder, open_store(settings, lite0_embedder))
    boundary = "part-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nBig\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        'filename="huge.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    ).encode()
    try:
        with live_server(settings, services) as small:
            chunks = (b"\xff" * 100_000 for _ in range(590))
            answer, sent = stream_until_answered(small.url, boundary, 60_000_000, head, chunks)
    finally:
        services.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"SHAZAM_MAX_UPLOAD_BYTES" in answer and b"huge.jpg" in answer
    assert sent < 100, f"{sent * 100_000} bytes were read before the refusal"
