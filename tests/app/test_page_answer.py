"""The web page at / in real headless Chromium against a real server and catalog: a screenshot
picked, dropped or pasted (or its address typed) is answered on the page the way the API
answers it, unknown answers say why and still show the nearest frames, and nothing is fetched
from outside this machine."""

from __future__ import annotations

import functools
import http.server
import random
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from skimage import data as skimage_data

from app.services import Services
from model.base import Embedder
from synthetic import apply_perturbations, make_titles, render_frame, write_episode
from synthetic.titles import TitleStyle
from tests.app.browser import drop_file, open_page, paste_file, watched_page
from tests.app.conftest import LiveServer, make_settings, serving
from tests.app.media import jpeg_bytes, png_bytes

EPISODE = "2"
SECONDS = 8.0
SIZE = (480, 270)


@pytest.fixture(scope="module")
def styles() -> list[TitleStyle]:
    return make_titles(2, seed=11)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, lite0_embedder: Embedder, styles: list[TitleStyle]
) -> Iterator[LiveServer]:
    """Two generated titles, one episode each, ingested before the server starts."""
    folder = tmp_path_factory.mktemp("page-videos")

    def stock(services: Services) -> None:
        for style in styles:
            video = folder / f"{style.name}.mp4"
            write_episode(style, int(EPISODE), video, seconds=SECONDS, fps=8, size=SIZE)
            report = services.ingestor.ingest(style.name, [video], episode=EPISODE)
            assert report.frames_added > 0 and not report.errors

    # The image-address test fetches from this machine, which the server refuses unless told.
    settings = make_settings(tmp_path_factory.mktemp("page-data"), fetch_allow_private=True)
    with serving(settings, lite0_embedder, stock) as running:
        yield running


IMAGE_LOADED = """(selector) => {
  const image = document.querySelector(selector);
  return image.complete && image.naturalWidth > 0;
}"""


def _screenshot(style: TitleStyle, t: float, perturbation: str = "jpeg25") -> bytes:
    image = render_frame(style, int(EPISODE), t, SIZE)
    return jpeg_bytes(apply_perturbations(image, [perturbation], random.Random(int(t * 10))))


def _api_answer(server: LiveServer, payload: bytes) -> dict:
    with server.client() as client:
        answer = client.post("/identify", files={"image": ("q.jpg", payload, "image/jpeg")})
    assert answer.status_code == 200, answer.text
    return answer.json()


CLOCK = r"(\d+):(\d\d(?:\.\d)?)"
SCENE = re.compile(rf"{CLOCK}-{CLOCK}, at {CLOCK}")


def _shown_scene(text: str) -> tuple[list[float], float]:
    """The from, to and at seconds a "0:01.0-0:02.5, at 0:01.5" reads as, and its resolution."""
    found = SCENE.search(text)
    assert found, f"no scene range in {text!r}"
    parts = found.groups()
    seconds = [int(parts[i]) * 60 + float(parts[i + 1]) for i in range(0, 6, 2)]
    return seconds, 0.1 if "." in parts[1] else 1.0


def _expect_scene(text: str, scene: dict) -> None:
    """The page shows the API's from-to and at, truncated as a player's clock counts."""
    (start, end, at), step = _shown_scene(text)
    for shown, given in ((start, scene["from"]), (end, scene["to"]), (at, scene["at"])):
        assert 0 <= given - shown < step + 1e-6, (text, scene)


def _expect_answer(page: Page, server: LiveServer, style: TitleStyle, payload: bytes) -> dict:
    """The page names the title the picture came from, with the API's episode, time and
    confidence, and shows the query beside the matched reference frame."""
    answer = _api_answer(server, payload)
    match = answer["match"]
    assert match is not None and match["title"] == style.name, answer
    section = page.locator("#answer")
    expect(section).to_have_attribute("data-state", "match", timeout=30_000)
    verdict = page.locator(".verdict.known")
    expect(verdict.locator(".answer-title")).to_have_text(style.name)
    where = verdict.locator(".where")
    expect(where).to_contain_text(f"episode {match['episode']}")
    _expect_scene(where.inner_text(), match)
    # Which view of the screenshot found it is said unless it was the picture as sent.
    expect(verdict.locator(".view")).to_have_count(0 if match["view"] == "full" else 1)
    confidence = verdict.locator(".confidence")
    expect(confidence).to_contain_text(f"{round(match['confidence'] * 100)}%")
    expect(confidence).to_contain_text(f"similarity {match['similarity']:.3f}")
    for image in ("#query-image", "#reference-image"):
        expect(page.locator(image)).to_be_visible()
        page.wait_for_function(IMAGE_LOADED, arg=image)
    shown = page.locator("#answer").inner_text()
    assert "null" not in shown and "undefined" not in shown and "NaN" not in shown, shown
    expect(page.locator("#reference-image")).to_have_attribute("src", match["preview_url"])
    others = [r for r in answer["results"] if r["frame_id"] != match["frame_id"]]
    expect(page.locator("#results li")).to_have_count(len(others))
    for shown, result in zip(page.locator("#results li").all(), others, strict=True):
        expect(shown).to_contain_text(result["title"])
        _expect_scene(shown.inner_text(), result)
    clip = page.locator("#clip")
    if match["clip_url"] is None:
        expect(clip).to_be_hidden()
    else:  # the scene's preview clip plays in the browser
        expect(clip).to_have_attribute("src", match["clip_url"])
        page.wait_for_function("() => document.querySelector('#clip').readyState >= 1")
    return answer


def test_a_picked_file_is_answered_with_title_episode_time_and_confidence(
    page: Page, server: LiveServer, styles: list[TitleStyle]
) -> None:
    payload = _screenshot(styles[0], 2.5)
    _pick(page, payload, "shot.jpg", "image/jpeg")
    _expect_answer(page, server, styles[0], payload)
    # The other title of the vote is listed, the nearest frames are one click away.
    expect(page.locator("#neighbors img").first).to_be_attached()


def test_a_dropped_file_is_answered(
    page: Page, server: LiveServer, styles: list[TitleStyle]
) -> None:
    payload = _screenshot(styles[1], 5.0, "letterbox")
    drop_file(page, "#drop-zone", payload, "dropped.jpg", "image/jpeg")
    _expect_answer(page, server, styles[1], payload)


def test_a_pasted_image_is_answered(
    page: Page, server: LiveServer, styles: list[TitleStyle]
) -> None:
    image = render_frame(styles[0], int(EPISODE), 6.0, SIZE)
    payload = png_bytes(image)  # what a browser puts on the clipboard for a copied image
    paste_file(page, payload, "image.png", "image/png")
    _expect_answer(page, server, styles[0], payload)


def test_a_dropped_non_image_is_refused_with_a_message(page: Page) -> None:
    drop_file(page, "#drop-zone", b"just words", "notes.txt", "text/plain")
    expect(page.locator("#answer")).to_have_attribute("data-state", "error")
    expect(page.locator("#status")).to_contain_text("not an image")


def test_a_picture_unlike_the_catalog_is_unknown_says_why_and_shows_the_nearest_frames(
    page: Page, server: LiveServer
) -> None:
    payload = jpeg_bytes(Image.fromarray(skimage_data.astronaut()))
    answer = _api_answer(server, payload)
    assert answer["match"] is None, answer  # a photograph, nothing like the generated titles
    _pick(page, payload, "photo.jpg", "image/jpeg")
    expect(page.locator("#answer")).to_have_attribute("data-state", "unknown", timeout=30_000)
    verdict = page.locator(".verdict.unknown")
    expect(verdict.locator(".answer-title")).to_have_text("Unknown")
    expect(verdict.locator(".why")).not_to_be_empty()
    expect(verdict).to_have_attribute("data-reason", answer["reason_code"])
    expect(page.locator("#reference")).to_be_hidden()
    expect(page.locator("#results li")).to_have_count(len(answer["results"]))
    gallery = page.locator("#neighbors img")
    expect(gallery).to_have_count(len(answer["neighbors"]))
    expect(gallery.first).to_be_visible()
    page.wait_for_function(IMAGE_LOADED, arg="#neighbors img")


def _pick(page: Page, payload: bytes, name: str, media_type: str) -> None:
    with page.expect_file_chooser() as chooser:
        page.click("#pick-button")
    chooser.value.set_files(files=[{"name": name, "mimeType": media_type, "buffer": payload}])


def test_title_facts_set_over_the_api_are_shown_with_the_answer(
    page: Page, server: LiveServer, styles: list[TitleStyle]
) -> None:
    with server.client() as client:
        title_id = {t["name"]: t["id"] for t in client.get("/titles").json()}[styles[1].name]
        facts = {"year": 2019, "aliases": ["Second Alias"], "anilist_id": 4242, "mal_id": 77}
        patched = client.patch(f"/titles/{title_id}", json=facts)
        assert patched.status_code == 200, patched.text
    try:
        _pick(page, _screenshot(styles[1], 4.0), "shot.jpg", "image/jpeg")
        expect(page.locator("#answer")).to_have_attribute("data-state", "match", timeout=30_000)
        expect(page.locator(".facts")).to_have_text("2019 · also known as Second Alias")
        links = page.locator(".verdict .links a")
        expect(links).to_have_count(2)
        expect(links.nth(0)).to_have_attribute("href", "https://anilist.co/anime/4242")
        expect(links.nth(1)).to_have_attribute("href", "https://myanimelist.net/anime/77")
    finally:
        with server.client() as client:
            cleared = {"year": None, "aliases": [], "anilist_id": None, "mal_id": None}
            assert client.patch(f"/titles/{title_id}", json=cleared).status_code == 200


def test_a_search_within_one_title_answers_from_that_title_only(
    page: Page, server: LiveServer, styles: list[TitleStyle]
) -> None:
    payload = _screenshot(styles[0], 2.5)
    with server.client() as client:
        title_id = {t["name"]: t["id"] for t in client.get("/titles").json()}[styles[1].name]
        answer = client.post(
            "/identify",
            files={"image": ("q.jpg", payload, "image/jpeg")},
            params={"title_id": title_id},
        ).json()
    page.select_option("#scope", label=styles[1].name)
    _pick(page, payload, "shot.jpg", "image/jpeg")
    state = "unknown" if answer["match"] is None else "match"
    expect(page.locator("#answer")).to_have_attribute("data-state", state, timeout=30_000)
    expect(page.locator("#verdict")).not_to_contain_text(styles[0].name)
    for caption in page.locator("#neighbors figcaption").all():
        expect(caption).to_contain_text(styles[1].name)


def test_keep_borders_searches_the_picture_as_sent(
    page: Page, server: LiveServer, styles: list[TitleStyle]
) -> None:
    page.check("#keep-borders")
    with page.expect_request(lambda request: "/identify" in request.url) as sent:
        _pick(page, _screenshot(styles[1], 5.0, "letterbox"), "bars.jpg", "image/jpeg")
    assert sent.value.url.endswith("/identify?cut_borders=false"), sent.value.url
    expect(page.locator("#answer")).to_have_attribute(
        "data-state", re.compile("match|unknown"), timeout=30_000
    )


def test_a_video_query_is_answered_from_one_of_its_frames(
    page: Page, server: LiveServer, styles: list[TitleStyle], tmp_path: Path
) -> None:
    clip = tmp_path / "clip.mp4"
    write_episode(styles[0], int(EPISODE), clip, seconds=2.0, fps=8, size=SIZE)
    drop_file(page, "#drop-zone", clip.read_bytes(), "clip.mp4", "video/mp4")
    expect(page.locator("#answer")).to_have_attribute("data-state", "match", timeout=60_000)
    expect(page.locator(".answer-title")).to_have_text(styles[0].name)
    expect(page.locator(".query-frame")).to_contain_text("Answered from frame")
    expect(page.locator(".query-frame")).to_contain_text("of your video")
    expect(page.locator("#query-video")).to_be_visible()
    expect(page.locator("#query-caption")).to_have_text("Your clip")


@pytest.fixture
def image_host(tmp_path: Path) -> Iterator[str]:
    """A plain HTTP server on this machine that serves tmp_path (an image's address)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_an_image_address_is_answered(
    page: Page, server: LiveServer, styles: list[TitleStyle], image_host: str, tmp_path: Path
) -> None:
    payload = _screenshot(styles[1], 3.0)
    (tmp_path / "shot.jpg").write_bytes(payload)
    page.fill("#url", f"{image_host}/shot.jpg")
    page.press("#url", "Enter")
    _expect_answer(page, server, styles[1], payload)


def test_the_page_is_usable_by_keyboard_and_on_a_phone(
    browser: Browser, server: LiveServer
) -> None:
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    with watched_page(browser, **phone) as (tab, watch):
        open_page(tab, server.url)
        width = tab.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"
        tab.keyboard.press("Tab")
        focused = tab.evaluate("document.activeElement.id")
        assert focused == "pick-button", focused
        with tab.expect_file_chooser():
            tab.keyboard.press("Enter")
        watch.assert_clean()


def test_the_page_and_its_assets_are_served_by_the_app(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        page = client.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        script = client.get("/web/js/main.js")
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert client.get("/web/style.css").status_code == 200
        assert client.get("/web/missing.js").status_code == 404
        assert "/" not in client.get("/openapi.json").json()["paths"]
