"""Every 4xx has one shape, `{"detail": str, "code": str}`, FastAPI's 422 included (real server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PIL import Image

from app.services import build_services, open_store
from model.base import Embedder
from tests.app.conftest import LiveServer, live_server, make_settings
from tests.app.media import png_bytes


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, lite0_embedder: Embedder
) -> Iterator[LiveServer]:
    settings = make_settings(
        tmp_path_factory.mktemp("data"), api_key="sesame", max_upload_bytes=10_000
    )
    services = build_services(settings, lite0_embedder, open_store(settings, lite0_embedder))
    with live_server(settings, services) as running:
        yield running
    services.close()


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("GET", "/titles/999", {}, 404, "not_found"),
        ("GET", "/frames/abc/thumbnail", {}, 422, "invalid_request"),
        ("GET", "/nowhere", {}, 404, "not_found"),
        ("DELETE", "/titles/1", {}, 401, "unauthorized"),
        ("POST", "/identify", {"data": {"top_k": "0"}}, 422, "invalid_request"),
        ("POST", "/identify", {"files": {"image": ("a.txt", b"hi", "text/plain")}}, 415, None),
        (
            "POST",
            "/identify",
            {"files": {"image": ("a.jpg", b"x" * 200_000, "image/jpeg")}},
            413,
            None,
        ),
    ],
)
def test_every_4xx_has_the_one_error_shape(
    server: LiveServer, method: str, path: str, kwargs: dict, status: int, code: str | None
) -> None:
    with server.client() as client:
        answer = client.request(method, path, **kwargs)
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"detail", "code"}
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["code"] == (code or {413: "too_large", 415: "unsupported_media_type"}[status])


def test_the_openapi_document_shows_the_error_shape_for_422(server: LiveServer) -> None:
    with server.client() as client:
        schema = client.get("/openapi.json").json()
    responses = schema["paths"]["/identify"]["post"]["responses"]
    assert responses["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_an_empty_catalog_is_an_answer_with_its_reason_code(server: LiveServer) -> None:
    shot = Image.new("RGB", (64, 48), (30, 120, 200))
    with server.client() as client:
        answer = client.post("/identify", files={"image": ("a.png", png_bytes(shot), "image/png")})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["match"], body["results"], body["reason_code"]) == (None, [], "empty_catalog")
