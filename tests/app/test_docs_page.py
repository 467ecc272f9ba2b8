"""/docs in real headless Chromium: Swagger UI loads from this server alone (no CDN), and
every file field of every upload, `files` (a list of uploads) included, is a file picker."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, expect

from app.docs import with_file_pickers
from tests.app.browser import watched_page
from tests.app.conftest import LiveServer

FILE_FIELD = {"type": "string", "contentMediaType": "application/octet-stream"}


def _file_fields(openapi: dict) -> list[tuple[str, str]]:
    """(Swagger's DOM id of the operation, field name) of every multipart file field."""
    found = []
    schemas = openapi["components"]["schemas"]
    for methods in openapi["paths"].values():
        for operation in methods.values():
            content = operation.get("requestBody", {}).get("content", {})
            form = content.get("multipart/form-data")
            if form is None:
                continue
            body = schemas[form["schema"]["$ref"].rsplit("/", 1)[-1]]
            for name, field in body["properties"].items():
                if "binary" in (field.get("format"), field.get("items", {}).get("format")):
                    dom_id = f"operations-{operation['tags'][0]}-{operation['operationId']}"
                    found.append((dom_id, name))
    return found


@pytest.mark.slow
def test_every_file_field_of_the_docs_is_a_file_picker(
    browser: Browser, server: LiveServer
) -> None:
    openapi = httpx.get(f"{server.url}/openapi.json").json()
    fields = _file_fields(openapi)
    names = {name for _, name in fields}
    assert {"image", "files"} <= names, fields  # the identify image and the titles' files
    with watched_page(browser) as (page, watch):
        page.goto(f"{server.url}/docs")
        page.wait_for_selector(".opblock")
        opened: set[str] = set()
        for dom_id, name in fields:
            operation = page.locator(f"#{dom_id}")
            if dom_id not in opened:
                operation.locator(".opblock-summary").click()
                operation.get_by_role("button", name="Try it out").click()
                opened.add(dom_id)
            row = operation.locator(f"tr[data-property-name={name}]")
            expect(row.locator("input[type=file]").first).to_be_attached()
            expect(row.locator("input[type=text]")).to_have_count(0)
        watch.assert_clean()  # Swagger UI's scripts and styles came from this server


def _raw_file_bodies(openapi: dict) -> list[tuple[str, str]]:
    """(Swagger's DOM id, media type) of every request body that is a file as a whole."""
    found = []
    for methods in openapi["paths"].values():
        for operation in methods.values():
            content = operation.get("requestBody", {}).get("content", {})
            for media_type, body in content.items():
                if media_type != "multipart/form-data" and body["schema"].get("format") == "binary":
                    dom_id = f"operations-{operation['tags'][0]}-{operation['operationId']}"
                    found.append((dom_id, media_type))
    return found


def test_a_raw_image_body_is_a_file_picker_too(browser: Browser, server: LiveServer) -> None:
    bodies = _raw_file_bodies(httpx.get(f"{server.url}/openapi.json").json())
    assert bodies, "no operation takes a raw image body"
    with watched_page(browser) as (page, watch):
        page.goto(f"{server.url}/docs")
        page.wait_for_selector(".opblock")
        for dom_id, media_type in bodies:
            operation = page.locator(f"#{dom_id}")
            operation.locator(".opblock-summary").click()
            operation.get_by_role("button", name="Try it out").click()
            body = operation.locator(".opblock-section-request-body")
            body.locator("select.content-type").select_option(media_type)
            expect(body.locator("input[type=file]")).to_have_count(1)
        watch.assert_clean()


def test_the_docs_page_names_no_other_host(server: LiveServer) -> None:
    html = httpx.get(f"{server.url}/docs").text
    assert "http://" not in html and "https://" not in html, html
    assert httpx.get(f"{server.url}/redoc").status_code == 404  # its bundle needs a CDN logo


def test_uploads_are_marked_binary_wherever_they_sit() -> None:
    schema = {
        "components": {
            "schemas": {
                "Body": {
                    "properties": {
                        "one": dict(FILE_FIELD),
                        "many": {"type": "array", "items": dict(FILE_FIELD)},
                        "maybe": {"anyOf": [dict(FILE_FIELD), {"type": "null"}], "title": "M"},
                        "text": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    }
                }
            }
        }
    }
    fields = with_file_pickers(schema)["components"]["schemas"]["Body"]["properties"]
    assert fields["one"] == {**FILE_FIELD, "format": "binary"}
    assert fields["many"]["items"] == {**FILE_FIELD, "format": "binary"}
    assert fields["maybe"] == {**FILE_FIELD, "format": "binary", "title": "M"}
    assert fields["text"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
