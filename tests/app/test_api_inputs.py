"""Bad uploads get a clear 4xx and leave the catalog untouched; checked in-process (TestClient)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.errors import STATUS_CODES
from app.main import create_app
from synthetic import make_titles, render_frame, write_corrupt_video
from tests.app.conftest import make_settings
from tests.app.media import bomb_png, jpeg_bytes, truncated_jpeg

MAX_UPLOAD = 200_000


@pytest.fixture(scope="module")
def frame() -> Image.Image:
    return render_frame(make_titles(1, seed=11)[0], 1, 3.0, (320, 180))


@pytest.fixture
def client(tmp_path: Path, make_services) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, max_upload_bytes=MAX_UPLOAD, max_image_pixels=4_000_000)
    with TestClient(create_app(settings, make_services(settings))) as test_client:
        yield test_client


def _assert_catalog_empty(client: TestClient) -> None:
    health = client.get("/health").json()
    assert (health["titles"], health["frames"]) == (0, 0)
    assert client.get("/titles").json() == []


@pytest.mark.parametrize(
    ("payload", "content_type", "status", "says"),
    [
        ("text", "image/jpeg", 400, "not a readable image"),
        ("text", "application/octet-stream", 400, "neither an image nor a video"),
        ("truncated", "image/jpeg", 400, "truncated"),
        ("bomb", "image/png", 413, "pixel"),
        ("huge_header", "image/png", 413, "decompression bomb"),
        ("text", "text/plain", 415, "text/plain"),
        ("text", "video/mp4", 400, "not a readable video"),
        ("oversize", "image/jpeg", 413, "200000-byte limit"),
        ("way_oversize", "image/jpeg", 413, "request body is over"),
    ],
)
def test_identify_refuses_bad_uploads(
    client: TestClient, frame: Image.Image, payload: str, content_type: str, status: int, says: str
) -> None:
    data = {
        "text": b"certainly not a picture\n" * 20,
        "truncated": truncated_jpeg(frame),
        "bomb": bomb_png(3000, 3000),
        "huge_header": bomb_png(),
        "oversize": os.urandom(MAX_UPLOAD + 1000),
        "way_oversize": os.urandom(MAX_UPLOAD + 200_000),  # stopped by the body limit
    }[payload]
    answer = client.post("/identify", files={"image": ("shot.jpg", data, content_type)})
    assert answer.status_code == status, answer.text
    assert says.lower() in answer.json()["detail"].lower()
    assert answer.json()["code"] == STATUS_CODES[status]


def test_oversize_upload_is_refused_without_a_content_length(client: TestClient) -> None:
    """The limit counts bytes received; a chunked body without Content-Length is no way round."""
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(10):
            yield os.urandom(MAX_UPLOAD // 4)
        yield f"\r\n--{boundary}--\r\n".encode()

    answer = client.post(
        "/identify",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert answer.status_code == 413
    assert "request body is over" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("form", "missing"),
    [({}, "image"), ({"top_k": "0"}, "top_k"), ({"top_k": "51"}, "top_k")],
)
def test_identify_validation_errors_have_the_one_error_shape(
    client: TestClient, frame: Image.Image, form: dict[str, str], missing: str
) -> None:
    files = None if missing == "image" else {"image": ("a.jpg", jpeg_bytes(frame), "image/jpeg")}
    answer = client.post("/identify", data=form, files=files)
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_request"
    assert answer.json()["detail"].startswith(f"{missing}: ")


def test_identify_on_an_empty_catalog_is_unknown(client: TestClient, frame: Image.Image) -> None:
    answer = client.post("/identify", files={"image": ("a.jpg", jpeg_bytes(frame), "image/jpeg")})
    assert answer.status_code == 200
    body = answer.json()
    assert body["match"] is None and body["candidates"] == [] and body["neighbors"] == []
    assert body["results"] == [] and body["reason_code"] == "empty_catalog"
    assert body["took_ms"] > 0


def test_a_bad_file_in_an_add_adds_nothing(client: TestClient, frame: Image.Image) -> None:
    good = ("good.jpg", jpeg_bytes(frame), "image/jpeg")
    cases = [
        ([good, ("bad.jpg", truncated_jpeg(frame), "image/jpeg")], 400),
        ([good, ("notes.txt", b"hello", "text/plain")], 415),
        ([good, ("big.jpg", os.urandom(MAX_UPLOAD + 10), "image/jpeg")], 413),
        ([good, ("bomb.png", bomb_png(), "image/png")], 413),
        ([good, ("fake.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 500, "video/mp4")], 400),
    ]
    for files, status in cases:
        answer = client.post(
            "/titles", data={"name": "Starlit"}, files=[("files", file) for file in files]
        )
        assert answer.status_code == status, answer.text
        assert answer.json()["detail"]
    _assert_catalog_empty(client)
    assert not any((client.app.state.settings.data_dir / "uploads").iterdir())


@pytest.mark.parametrize(
    ("form", "with_file", "missing"),
    [({}, True, "name"), ({"name": "A"}, False, "files"), ({"name": "   "}, True, "name")],
)
def test_add_validation_errors(
    client: TestClient, frame: Image.Image, form: dict, with_file: bool, missing: str
) -> None:
    files = [("files", ("a.jpg", jpeg_bytes(frame), "image/jpeg"))] if with_file else None
    answer = client.post("/titles", data=form, files=files)
    assert answer.status_code == 422
    assert answer.json() == {"detail": answer.json()["detail"], "code": "invalid_request"}
    assert answer.json()["detail"].startswith(f"{missing}: ")
    _assert_catalog_empty(client)


def test_unknown_ids_are_404(client: TestClient) -> None:
    assert client.get("/titles/999").status_code == 404
    assert client.delete("/titles/999").status_code == 404
    assert client.get("/jobs/deadbeef").status_code == 404
    assert client.get("/frames/999/thumbnail").status_code == 404
    metrics = client.get("/metrics").text
    assert 'route="/titles/{title_id}"' in metrics  # the template, never the raw path
    assert 'status="404"' in metrics
    assert "/titles/999" not in metrics


@pytest.mark.parametrize("kind", ["truncated", "cut", "garbage"])
def test_a_broken_video_is_refused_or_fails_its_job_adding_nothing(
    client: TestClient, tmp_path: Path, kind: str
) -> None:
    video = write_corrupt_video(tmp_path / f"{kind}.mp4", kind=kind)
    answer = client.post(
        "/titles", data={"name": "Broken"}, files={"files": (video.name, video.read_bytes())}
    )
    if answer.status_code == 202:  # only found out while decoding: the job says so
        job_id = answer.json()["job_id"]
        deadline = time.monotonic() + 60
        while (job := client.get(f"/jobs/{job_id}").json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert job["status"] == "failed" and video.name in job["error"], job
    else:
        assert answer.status_code == 400, answer.text
        assert video.name in answer.json()["detail"]
    _assert_catalog_empty(client)
