"""Takes docs/page.png: the web page answering a demo sample, in real headless Chromium.

Run from the repository root: `python -m tests.app.page_screenshot [docs/page.png]`. It seeds the
demo catalog into a temporary data dir (about a minute on two cores), serves it, picks the first
Big Buck Bunny sample on the page and saves what the browser shows.
"""

from __future__ import annotations

import sys
import tempfile
from contextlib import closing
from pathlib import Path

from playwright.sync_api import sync_playwright

from app.demo import BUNNY_TITLE, seed_demo
from app.services import open_services
from tests.app.browser import chromium_path, launch, open_page, watched_page
from tests.app.conftest import live_server, make_settings

VIEWPORT = {"width": 1280, "height": 1000}
# Images in a closed <details> are not shown; the visible ones must have loaded, and the preview
# clip (when the demo kept its video) must show its first picture.
_IMAGES_SHOWN = "[...document.images].every((img) => img.complete || !img.checkVisibility())"
_CLIP_READY = (
    "(() => { const v = document.querySelector('#clip'); return v.hidden || v.readyState >= 2; })()"
)


def take(out: Path) -> None:
    executable = chromium_path()
    if executable is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="shazam-page-") as scratch:
        settings = make_settings(Path(scratch))
        with closing(open_services(settings)) as services:
            demo = seed_demo(services, settings.data_dir, report=lambda line: print(line))
            sample = next(s for s in demo.samples if s.title == BUNNY_TITLE)
            with live_server(settings, services) as server, sync_playwright() as playwright:
                browser = launch(playwright, executable)
                with watched_page(browser, viewport=VIEWPORT) as (page, watch):
                    open_page(page, server.url)
                    with page.expect_file_chooser() as chooser:
                        page.click("#pick-button")
                    chooser.value.set_files(str(sample.path))
                    page.wait_for_selector("#answer[data-state=match]", timeout=60_000)
                    page.wait_for_function(_IMAGES_SHOWN, timeout=30_000)
                    page.wait_for_function(_CLIP_READY, timeout=30_000)
                    watch.assert_clean()
                    page.screenshot(path=str(out), full_page=True)
                browser.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/page.png"))
