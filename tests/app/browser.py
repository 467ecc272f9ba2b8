"""Real headless Chromium (Debian's package) driven by Playwright, for the page tests.

Never `playwright install`: the browser is the system's `chromium`, which `.ci/run` installs.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Route

CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def chromium_path() -> str | None:
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def launch(playwright: Playwright, executable: str) -> Browser:
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


@dataclass
class Watch:
    """What a page did that a test should not see: requests leaving this machine, script errors."""

    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert not self.outside, f"the page reached outside this machine: {self.outside}"
        assert not self.errors, f"the page logged errors: {self.errors}"


@contextmanager
def watched_page(browser: Browser, **context_options: object) -> Iterator[tuple[Page, Watch]]:
    """A fresh tab (own session storage) whose requests to other hosts are refused and noted."""
    context = browser.new_context(**context_options)  # type: ignore[arg-type]
    page = context.new_page()
    watch = Watch()

    def guard(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            watch.outside.append(route.request.url)
            route.abort()

    def console(message: ConsoleMessage) -> None:
        # Chromium logs every 4xx answer as "Failed to load resource"; the tests provoke some.
        if message.type == "error" and "Failed to load resource" not in message.text:
            watch.errors.append(message.text)

    # Intercept file choosers from the start: Playwright turns interception on without waiting
    # for the browser, so a chooser opened right after `expect_file_chooser` could slip past.
    page.on("filechooser", lambda _chooser: None)
    page.route("**/*", guard)
    page.on("console", console)
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    try:
        yield page, watch
    finally:
        context.close()


def open_page(page: Page, url: str) -> None:
    """Load the page and wait until its scripts listen (they mark <html data-ready>)."""
    page.goto(url)
    page.wait_for_selector("html[data-ready=true]")


# Builds a File in the page from bytes, then hands it over the way a person's browser would.
_FILE_JS = """([data, name, type]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  return transfer;
}"""


def data_transfer(page: Page, payload: bytes, name: str, media_type: str):  # -> JSHandle
    return page.evaluate_handle(_FILE_JS, [base64.b64encode(payload).decode(), name, media_type])


def paste_file(page: Page, payload: bytes, name: str, media_type: str) -> None:
    """A synthetic `paste` event carrying the file, as Ctrl+V of a copied image sends."""
    transfer = data_transfer(page, payload, name, media_type)
    page.evaluate(
        """(transfer) => document.body.dispatchEvent(new ClipboardEvent("paste",
             { clipboardData: transfer, bubbles: true, cancelable: true }))""",
        transfer,
    )


def drop_file(page: Page, selector: str, payload: bytes, name: str, media_type: str) -> None:
    """dragenter, dragover and drop of the file on `selector`."""
    transfer = data_transfer(page, payload, name, media_type)
    for kind in ("dragenter", "dragover", "drop"):
        page.dispatch_event(selector, kind, {"dataTransfer": transfer})
