"""The answer a person can check, over HTTP on a real server: scene spans (a static shot reported
whole), results across episodes, reason codes, title metadata, sources, 4-place floats."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from app.services import build_services, open_store
from model.base import Embedder
from synthetic import make_titles, render_frame
from synthetic.titles import TitleStyle
from synthetic.video import write_frames, write_held_opening
from tests.app.conftest import LiveServer, add_video, live_server, make_settings
from tests.app.media import jpeg_bytes

SIZE = (320, 180)
FPS = 12
SECONDS = 6.0
HELD_S = 3.0
OPENING_S = 2.5


@pytest.fixture(scope="module")
def styles() -> list[TitleStyle]:
    return make_titles(3, seed=21)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, lite0_embedder: Embedder, styles: list[TitleStyle]
) -> Iterator[LiveServer]:
    """Catalog: a title opening on a held shot; a title whose two episodes share an opening."""
    folder = tmp_path_factory.mktemp("videos")
    settings = make_settings(tmp_path_factory.mktemp("data"))
    services = build_services(settings, lite0_embedder, open_store(settings, lite0_embedder))
    held, twin = styles[0], styles[1]
    write_held_opening(held, folder / "Held - 01.mp4", HELD_S, SECONDS, FPS, SIZE)
    for episode in (1, 2):
        frames = (
            render_frame(twin, 1 if i / FPS < OPENING_S else episode, i / FPS, SIZE)
            for i in range(round(SECONDS * FPS))
        )
        write_frames(frames, str(folder / f"Twin - 0{episode}.mp4"), FPS, SIZE)
    with live_server(settings, services) as running, running.client() as client:
        add_video(client, held.name, folder / "Held - 01.mp4")
        for episode in (1, 2):
            add_video(client, twin.name, folder / f"Twin - 0{episode}.mp4")
        yield running
    services.close()


def _ask(client: httpx.Client, image: Image.Image, **params: object) -> dict:
    files = {"image": ("shot.jpg", jpeg_bytes(image), "image/jpeg")}
    answer = client.post("/identify", files=files, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _floats(value: object) -> Iterator[float]:
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _floats(item)
    elif isinstance(value, list):
        for item in value:
            yield from _floats(item)


def test_a_frame_of_a_static_shot_is_answered_with_the_whole_shot(
    server: LiveServer, styles: list[TitleStyle]
) -> None:
    with server.client() as client:
        body = _ask(client, render_frame(styles[0], 1, 0.0, SIZE))
        match = body["match"]
        assert match is not None, body
        assert match["title"] == styles[0].name and match["episode"] == "1"
        # Shown from 0 to 3 s: any moment of it, e.g. 1.0 s, lies inside the answered span.
        assert match["from"] == 0.0 and HELD_S - 0.1 <= match["to"] <= HELD_S + 0.6
        assert match["from"] <= match["at"] == match["timestamp"] <= match["to"]
        assert match["source_name"] == "Held - 01.mp4"
        assert match["duration"] == pytest.approx(SECONDS, abs=0.2)
        assert match["frame_id"] == body["results"][0]["frame_id"]
        assert match["source_id"] == body["results"][0]["source_id"]
        assert body["reason"] is None and body["reason_code"] is None
        assert match["clip_url"] is None or match["clip_url"].endswith("/clip")
        preview = client.get(match["preview_url"])
        assert preview.status_code == 200 and preview.headers["content-type"] == "image/webp"
        assert Image.open(io.BytesIO(preview.content)).width > 100


def test_a_moment_of_moving_video_lies_inside_a_short_span(
    server: LiveServer, styles: list[TitleStyle]
) -> None:
    with server.client() as client:
        for moment in (3.7, 4.4, 5.1):
            match = _ask(client, render_frame(styles[0], 1, moment, SIZE))["match"]
            assert match is not None and match["title"] == styles[0].name
            assert match["from"] - 0.25 <= moment <= match["to"] + 0.25, (moment, match)
            assert match["to"] - match["from"] <= 6.0


def test_an_opening_in_every_episode_gives_one_result_per_episode(
    server: LiveServer, styles: list[TitleStyle]
) -> None:
    with server.client() as client:
        body = _ask(client, render_frame(styles[1], 1, 1.0, SIZE))
    twin = [r for r in body["results"] if r["title"] == styles[1].name]
    assert {r["episode"] for r in twin[:2]} == {"1", "2"}, twin
    assert all(r["from"] - 0.25 <= 1.0 <= r["to"] + 0.25 for r in twin[:2])
    assert len({r["source_id"] for r in twin}) >= 2
    similarities = [r["similarity"] for r in body["results"]]
    assert similarities == sorted(similarities, reverse=True)
    assert all(r["preview_url"] == f"/frames/{r['frame_id']}/thumbnail" for r in body["results"])


def test_every_float_of_an_answer_is_rounded_to_four_places(
    server: LiveServer, styles: list[TitleStyle]
) -> None:
    with server.client() as client:
        body = _ask(client, render_frame(styles[1], 2, 4.2, SIZE))
    floats = list(_floats(body))
    assert len(floats) > 20
    assert all(value == round(value, 4) for value in floats)


def test_an_unknown_answer_says_why_in_words_and_in_a_code(server: LiveServer) -> None:
    noise = Image.effect_noise(SIZE, 80).convert("RGB")
    with server.client() as client:
        body = _ask(client, noise)
    assert body["match"] is None
    assert body["reason_code"] == "no_close_frame" and "below" in body["reason"]
    assert body["results"], "the nearest scenes are listed anyway"


def test_a_picture_in_two_titles_is_ambiguous(
    server: LiveServer, styles: list[TitleStyle], tmp_path: Path
) -> None:
    """The same shot catalogued under two names cannot be told apart: `ambiguous`."""
    frames = [render_frame(styles[2], 1, i / 6, SIZE) for i in range(12)]
    with server.client() as client:
        for name, fps in (("Copy A", 6), ("Copy B", 3)):
            path = tmp_path / f"{name}.mp4"
            write_frames(frames[:: 6 // fps], str(path), fps, SIZE)
            add_video(client, name, path)
        body = _ask(client, frames[6])
    assert body["match"] is None, body["match"]
    assert body["reason_code"] == "ambiguous" and body["reason"].startswith("ambiguous")
    assert {r["title"] for r in body["results"][:2]} == {"Copy A", "Copy B"}


def test_title_metadata_is_patched_listed_and_named_in_answers(
    server: LiveServer, styles: list[TitleStyle]
) -> None:
    with server.client() as client:
        [title] = [t for t in client.get("/titles").json() if t["name"] == styles[0].name]
        assert (title["aliases"], title["anilist_id"], title["year"]) == ([], None, None)
        patch = {"aliases": ["Held Opening", "ホールド"], "anilist_id": 21, "year": 2024}
        changed = client.patch(f"/titles/{title['id']}", json=patch)
        assert changed.status_code == 200, changed.text
        assert changed.json()["aliases"] == ["Held Opening", "ホールド"]
        # Fields left out keep their value; null clears one.
        again = client.patch(f"/titles/{title['id']}", json={"mal_id": 5, "anilist_id": None})
        assert (again.json()["mal_id"], again.json()["anilist_id"], again.json()["year"]) == (
            5,
            None,
            2024,
        )
        listed = {t["id"]: t for t in client.get("/titles").json()}[title["id"]]
        assert listed == client.get(f"/titles/{title['id']}").json() == again.json()
        body = _ask(client, render_frame(styles[0], 1, 0.5, SIZE))
        assert body["match"]["aliases"] == ["Held Opening", "ホールド"]
        assert (body["match"]["mal_id"], body["match"]["year"]) == (5, 2024)
        assert body["results"][0]["aliases"] == ["Held Opening", "ホールド"]
        bad = client.patch(f"/titles/{title['id']}", json={"year": 1200})
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_request"
        assert "year" in bad.json()["detail"]
        unknown_field = client.patch(f"/titles/{title['id']}", json={"name": "x"})
        assert unknown_field.status_code == 422
        assert client.patch("/titles/9999", json={"year": 2000}).status_code == 404


def test_results_follow_the_search_when_restricted_to_a_title(
    server: LiveServer, styles: list[TitleStyle]
) -> None:
    with server.client() as client:
        titles = {t["name"]: t["id"] for t in client.get("/titles").json()}
        query = render_frame(styles[0], 1, 4.0, SIZE)
        only_twin = _ask(client, query, title_id=titles[styles[1].name])
        assert {r["title_id"] for r in only_twin["results"]} == {titles[styles[1].name]}
        assert only_twin["match"] is None or only_twin["match"]["title"] == styles[1].name
        unknown = client.post(
            "/identify", files={"image": ("a.jpg", jpeg_bytes(query))}, params={"title_id": 999}
        )
        assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"


def test_cut_borders_false_searches_the_picture_as_sent(
    server: LiveServer, styles: list[TitleStyle]
) -> None:
    frame = render_frame(styles[0], 1, 4.5, SIZE)
    boxed = Image.new("RGB", (SIZE[0], SIZE[1] * 2), (0, 0, 0))
    boxed.paste(frame, (0, SIZE[1] // 2))
    with server.client() as client:
        trimmed = _ask(client, boxed)
        as_sent = _ask(client, boxed, cut_borders="false")
    assert trimmed["match"]["title"] == styles[0].name
    best = as_sent["results"][0]["similarity"]
    assert best < trimmed["results"][0]["similarity"] - 0.02, (best, trimmed["results"][0])
