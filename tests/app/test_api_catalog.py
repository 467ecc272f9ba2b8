"""Catalog round trips in-process: add images (201, searchable at once), list, delete, auth,
metrics and the OpenAPI document."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from app.main import create_app
from synthetic import apply_perturbations, make_titles, render_frame
from synthetic.titles import TitleStyle
from tests.app.conftest import make_settings
from tests.app.media import jpeg_bytes

KEY = "correct horse battery staple"


@pytest.fixture(scope="module")
def styles() -> list[TitleStyle]:
    return make_titles(2, seed=21)


def _frames(style: TitleStyle, times: list[float]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        ("files", (f"shot{i}.jpg", jpeg_bytes(render_frame(style, 1, t, (480, 270))), "image/jpeg"))
        for i, t in enumerate(times)
    ]


def _query(style: TitleStyle, t: float) -> dict[str, tuple[str, bytes, str]]:
    image: Image.Image = apply_perturbations(
        render_frame(style, 1, t, (640, 360)), ["jpeg25"], random.Random(1)
    )
    return {"image": ("query.jpg", jpeg_bytes(image), "image/jpeg")}


@pytest.fixture
def client(tmp_path: Path, make_services) -> Iterator[TestClient]:
    settings = make_settings(tmp_path)
    with TestClient(create_app(settings, make_services(settings))) as test_client:
        yield test_client


def test_images_only_add_is_searchable_at_once(
    client: TestClient, styles: list[TitleStyle]
) -> None:
    first, second = styles
    added = client.post(
        "/titles", data={"name": first.name, "episode": "02"}, files=_frames(first, [1, 4, 7])
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["name"] == first.name and body["frames_added"] == body["frames_total"] >= 2
    other = client.post("/titles", data={"name": second.name}, files=_frames(second, [1, 4, 7]))
    assert other.status_code == 201

    answer = client.post("/identify", files=_query(first, 4), data={"top_k": "2"}).json()
    assert answer["match"]["title"] == first.name
    assert answer["match"]["title_id"] == body["title_id"]
    assert answer["match"]["episode"] == "02"
    assert answer["match"]["timestamp"] is None  # stills carry no time
    assert 1 <= len(answer["candidates"]) <= 2
    assert answer["neighbors"][0]["title"] == first.name

    thumbnail = client.get(f"/frames/{answer['neighbors'][0]['frame_id']}/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/webp"
    assert thumbnail.content[8:12] == b"WEBP"

    # Same name in other case adds to the same title.
    again = client.post("/titles", data={"name": first.name.upper()}, files=_frames(first, [10]))
    assert again.status_code == 201
    assert again.json()["title_id"] == body["title_id"]
    assert again.json()["frames_total"] == body["frames_total"] + again.json()["frames_added"]

    listed = {title["id"]: title for title in client.get("/titles").json()}
    assert set(listed) == {body["title_id"], other.json()["title_id"]}
    assert listed[body["title_id"]]["frames"] == again.json()["frames_total"]
    assert listed[body["title_id"]]["episodes"] >= 1
    assert client.get(f"/titles/{body['title_id']}").json() == listed[body["title_id"]]


def test_delete_takes_a_title_out_of_answers_at_once(
    client: TestClient, styles: list[TitleStyle]
) -> None:
    first, second = styles
    title_id = client.post("/titles", data={"name": first.name}, files=_frames(first, [1, 4, 7]))
    client.post("/titles", data={"name": second.name}, files=_frames(second, [1, 4, 7]))
    title_id = title_id.json()["title_id"]
    assert client.post("/identify", files=_query(first, 4)).json()["match"]["title_id"] == title_id

    assert client.delete(f"/titles/{title_id}").status_code == 204
    answer = client.post("/identify", files=_query(first, 4)).json()
    assert answer["match"] is None or answer["match"]["title_id"] != title_id
    assert all(neighbor["title_id"] != title_id for neighbor in answer["neighbors"])
    assert client.get(f"/titles/{title_id}").status_code == 404
    assert client.delete(f"/titles/{title_id}").status_code == 404
    assert client.get("/health").json()["titles"] == 1


def test_writes_need_the_key_when_one_is_set(
    tmp_path: Path, make_services, styles: list[TitleStyle]
) -> None:
    settings = make_settings(tmp_path, api_key=KEY)
    files = _frames(styles[0], [1])
    with TestClient(create_app(settings, make_services(settings))) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
            refused = client.post("/titles", data={"name": "A"}, files=files, headers=headers)
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"] == "Bearer"
        assert client.get("/health").json()["frames"] == 0
        auth = {"Authorization": f"Bearer {KEY}"}
        added = client.post("/titles", data={"name": "A"}, files=files, headers=auth)
        assert added.status_code == 201
        title_id = added.json()["title_id"]
        assert client.get("/titles").status_code == 200  # reads stay open
        assert client.post("/identify", files=_query(styles[0], 1)).status_code == 200
        assert client.delete(f"/titles/{title_id}").status_code == 401
        assert client.delete(f"/titles/{title_id}", headers=auth).status_code == 204


def test_open_writes_are_warned_about_loudly(
    tmp_path: Path, make_services, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path)
    with caplog.at_level(logging.WARNING, logger="app.auth"):
        with TestClient(create_app(settings, make_services(settings))):
            pass
    assert any("no API key is set" in record.message for record in caplog.records)

    caplog.clear()
    keyed = make_settings(tmp_path / "keyed", api_key=KEY)
    with caplog.at_level(logging.WARNING, logger="app.auth"):
        with TestClient(create_app(keyed, make_services(keyed))):
            pass
    assert not any("no API key is set" in record.message for record in caplog.records)


def test_metrics_are_per_app_and_count_outcomes(
    tmp_path: Path, make_services, styles: list[TitleStyle]
) -> None:
    settings = make_settings(tmp_path / "a")
    other_settings = make_settings(tmp_path / "b")
    with (
        TestClient(create_app(settings, make_services(settings))) as client,
        TestClient(create_app(other_settings, make_services(other_settings))) as other,
    ):
        client.post("/identify", files=_query(styles[0], 1))  # empty catalog: unknown
        added = client.post("/titles", data={"name": "A"}, files=_frames(styles[0], [1, 4])).json()
        client.post("/identify", files=_query(styles[0], 1))
        text = client.get("/metrics").text
        assert _sample(text, "shazam_identify_total", outcome="unknown") == 1
        assert _sample(text, "shazam_identify_total", outcome="match") == 1
        post_identify = {"route": "/identify", "method": "POST"}
        assert _sample(text, "shazam_http_requests_total", status="200", **post_identify) == 2
        assert _sample(text, "shazam_http_request_duration_seconds_count", **post_identify) == 2
        assert _sample(text, "shazam_catalog_titles") == 1
        assert _sample(text, "shazam_catalog_frames") == added["frames_total"]
        untouched = other.get("/metrics").text
        assert _sample(untouched, "shazam_identify_total", outcome="unknown") == 0
        assert 'route="/identify"' not in untouched


def test_blocking_work_runs_on_one_pool_of_the_configured_size(
    tmp_path: Path, make_services, styles: list[TitleStyle]
) -> None:
    settings = make_settings(tmp_path, offload_threads=1)
    with TestClient(create_app(settings, make_services(settings))) as client:
        client.post("/titles", data={"name": "A"}, files=_frames(styles[0], [1, 4]))
        with ThreadPoolExecutor(6) as callers:  # more requests at once than the pool has threads
            answers = list(
                callers.map(
                    lambda t: client.post("/identify", files=_query(styles[0], t)), range(6)
                )
            )
            answers += list(callers.map(lambda _: client.get("/titles"), range(6)))
        assert [answer.status_code for answer in answers] == [200] * 12
        offload = [t for t in threading.enumerate() if t.name.startswith("shazam-offload")]
        assert len(offload) == 1
    assert not any(t.name.startswith("shazam-offload") for t in threading.enumerate())


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in Prometheus text, or None when absent."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None


def test_openapi_documents_routes_with_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/identify", "/titles", "/titles/{title_id}", "/jobs/{job_id}", "/health"):
        assert path in spec["paths"]
    schemas = spec["components"]["schemas"]
    for name in ("IdentifyResponse", "TitleAdded", "JobStatus", "Health"):
        assert schemas[name]["examples"], name
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200
