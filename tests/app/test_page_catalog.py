"""The catalog panel of the web page in real headless Chromium against a real server: titles
with their counts, the API key kept in the tab, adding a title from a video with a progress
bar that follows the server's job, and deleting a title (refused without the key)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from app.services import Services
from model.base import Embedder
from synthetic import make_titles, render_frame, write_episode
from synthetic.titles import TitleStyle
from tests.app.browser import open_page, watched_page
from tests.app.conftest import LiveServer, make_settings, serving
from tests.app.media import png_bytes

KEY = "page-test-key"
SIZE = (480, 270)

# Every value the bar takes, recorded in the page as it changes.
_RECORD_BAR = """() => {
  window.barValues = [];
  const bar = document.getElementById("add-progress");
  new MutationObserver(() => window.barValues.push(bar.value))
    .observe(bar, { attributes: true, attributeFilter: ["value"] });
}"""


@pytest.fixture(scope="module")
def styles() -> list[TitleStyle]:
    return make_titles(3, seed=21)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, lite0_embedder: Embedder, styles: list[TitleStyle]
) -> Iterator[LiveServer]:
    """A keyed server whose catalog starts with two titles added from screenshots: one with an
    episode number, one without (like a film)."""
    folder = tmp_path_factory.mktemp("catalog-shots")

    def stock(services: Services) -> None:
        shots = []
        for t in (1.0, 4.0, 7.0):
            shots.append(folder / f"shot-{t:g}.png")
            render_frame(styles[0], 1, t, SIZE).save(shots[-1])
        assert services.ingestor.ingest(styles[0].name, shots, episode="1").frames_added == 3
        film = folder / "film.png"
        render_frame(styles[2], 1, 2.0, SIZE).save(film)
        assert services.ingestor.ingest(styles[2].name, [film]).frames_added == 1

    # Small batches: a video's ~25 kept frames are embedded (and reported) in several steps.
    settings = make_settings(
        tmp_path_factory.mktemp("catalog-data"), api_key=KEY, embed_batch_size=4
    )
    with serving(settings, lite0_embedder, stock) as running:
        yield running


@pytest.fixture(scope="module")
def locked_server(
    tmp_path_factory: pytest.TempPathFactory, lite0_embedder: Embedder, styles: list[TitleStyle]
) -> Iterator[LiveServer]:
    """A server that wants the key for reads too (thumbnails included), with one title."""
    shot = tmp_path_factory.mktemp("locked-shots") / "shot.png"
    render_frame(styles[2], 1, 2.0, SIZE).save(shot)
    settings = make_settings(
        tmp_path_factory.mktemp("locked-data"), api_key=KEY, require_key_for_reads=True
    )

    def stock(services: Services) -> None:
        assert services.ingestor.ingest(styles[2].name, [shot]).frames_added == 1

    with serving(settings, lite0_embedder, stock) as running:
        yield running


def _titles(server: LiveServer) -> dict[str, dict]:
    with server.client() as client:
        return {title["name"]: title for title in client.get("/titles").json()}


def _row(page: Page, name: str):
    return page.locator("#titles li").filter(has_text=name)


def _use_key(page: Page, key: str) -> None:
    page.fill("#api-key", key)
    page.press("#api-key", "Enter")
    expect(page.locator("#catalog-status")).to_have_text("Key kept for this tab.")


def test_titles_are_listed_with_their_counts(page: Page, server: LiveServer) -> None:
    titles = _titles(server)
    expect(page.locator("#titles li")).to_have_count(len(titles))
    assert sorted(title["episodes"] for title in titles.values()) == [0, 1]
    for name, title in titles.items():
        counts = _row(page, name).locator(".counts")
        expect(counts).to_contain_text(f"{title['frames']} frame")
        if title["episodes"]:
            expect(counts).to_contain_text(f" · {title['episodes']} episode")
        else:  # a film: no "0 episodes"
            expect(counts).to_have_text(f"{title['frames']} frame · 1 source")
    frames = sum(title["frames"] for title in titles.values())
    expect(page.locator("#catalog-summary")).to_contain_text(f"{frames} frames")


def test_the_key_is_kept_in_the_tab_only(browser: Browser, page: Page, server: LiveServer) -> None:
    _use_key(page, KEY)
    page.reload()
    page.wait_for_selector("html[data-ready=true]")
    assert page.input_value("#api-key") == KEY
    assert page.evaluate("Object.values(localStorage)") == []  # never beyond this tab
    with watched_page(browser) as (other_tab, watch):
        open_page(other_tab, server.url)
        assert other_tab.input_value("#api-key") == ""
        watch.assert_clean()


@pytest.mark.slow
def test_a_video_is_added_with_a_progress_bar_that_follows_the_job(
    page: Page, server: LiveServer, styles: list[TitleStyle], tmp_path: Path
) -> None:
    video = tmp_path / "Second Show - 04.mp4"
    # Long enough that the job outlasts several of the page's polls (400 ms) on a quiet machine.
    write_episode(styles[1], 4, video, seconds=120.0, fps=8, size=SIZE)
    job_polls: list[str] = []
    page.on("request", lambda r: job_polls.append(r.url) if "/jobs/" in r.url else None)
    _use_key(page, KEY)
    page.evaluate(_RECORD_BAR)
    page.click("#manage summary")
    page.fill("#add-name", styles[1].name)
    page.set_input_files("#add-files", str(video))
    page.click("#add-form button[type=submit]")
    status = page.locator("#catalog-status")
    expect(status).to_contain_text(f"to {styles[1].name}.", timeout=120_000)

    added = _titles(server)[styles[1].name]
    expect(status).to_have_text(f"Added {added['frames']} frames to {styles[1].name}.")
    expect(_row(page, styles[1].name).locator(".counts")).to_contain_text(
        f"{added['frames']} frames · 1 episode"
    )
    values = page.evaluate("window.barValues")
    assert job_polls, "the page never asked the server how the job was going"
    assert values[-1] == 1, values
    assert any(0 < value < 1 for value in values), f"the bar only jumped: {values}"
    assert page.locator("#add-form button[type=submit]").is_enabled()


def test_deleting_is_refused_without_the_key_and_done_with_it(
    page: Page, server: LiveServer, styles: list[TitleStyle]
) -> None:
    name = styles[0].name
    page.on("dialog", lambda dialog: dialog.accept())
    _row(page, name).get_by_role("button", name=f"Delete {name}").click()
    expect(page.locator("#catalog-status")).to_contain_text("Bearer")
    assert name in _titles(server)
    expect(_row(page, name)).to_have_count(1)

    _use_key(page, KEY)
    _row(page, name).get_by_role("button", name=f"Delete {name}").click()
    expect(page.locator("#catalog-status")).to_have_text(f"Deleted {name}.")
    expect(_row(page, name)).to_have_count(0)
    assert name not in _titles(server)


def test_a_refused_add_says_why(page: Page, server: LiveServer, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    _use_key(page, KEY)
    page.click("#manage summary")
    page.fill("#add-name", "Never Added")
    page.set_input_files("#add-files", str(text))
    page.click("#add-form button[type=submit]")
    expect(page.locator("#catalog-status")).to_contain_text("Could not add Never Added:")
    assert "Never Added" not in _titles(server)


def test_a_server_that_wants_keys_for_reads_works_once_the_key_is_given(
    browser: Browser, locked_server: LiveServer, styles: list[TitleStyle]
) -> None:
    with watched_page(browser) as (page, watch):
        open_page(page, locked_server.url)
        expect(page.locator("#catalog-summary")).to_contain_text("needs 'Authorization")
        _use_key(page, KEY)
        expect(_row(page, styles[2].name)).to_have_count(1)
        picture = render_frame(styles[2], 1, 2.0, SIZE)
        with page.expect_file_chooser() as chooser:
            page.click("#pick-button")
        chooser.value.set_files(
            files=[{"name": "q.png", "mimeType": "image/png", "buffer": png_bytes(picture)}]
        )
        expect(page.locator("#answer")).to_have_attribute("data-state", "match", timeout=30_000)
        expect(page.locator(".answer-title")).to_have_text(styles[2].name)
        # The matched frame's thumbnail is guarded too: it came through the key.
        reference = page.locator("#reference-image")
        expect(reference).to_have_attribute("src", re.compile(r"^blob:"))
        page.wait_for_function("() => document.querySelector('#reference-image').naturalWidth")
        watch.assert_clean()
