"""Property-based API conformance: schemathesis generates requests for every operation of the
live server's OpenAPI document, with and without a key, and checks each answer: never a 5xx,
status codes, content types and bodies as documented. Small enough for CI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.services import build_services, open_store
from model.base import Embedder
from synthetic import make_titles, render_frame
from tests.app.conftest import LiveServer, live_server, make_settings
from tests.app.media import jpeg_bytes

KEY = "schemathesis-key-0123456789"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, lite0_embedder: Embedder
) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("schemathesis-data")
    # No rate limit: hundreds of generated requests come from one client on purpose.
    settings = make_settings(data_dir, api_key=KEY, rate_limit="")
    services = build_services(settings, lite0_embedder, open_store(settings, lite0_embedder))
    with live_server(settings, services) as running:
        with running.client() as client:  # one real title, so ids and thumbnails can exist
            shot = jpeg_bytes(render_frame(make_titles(1, seed=51)[0], 1, 1.0, (320, 180)))
            added = client.post(
                "/titles",
                data={"name": "Stocked"},
                files={"files": ("a.jpg", shot, "image/jpeg")},
                headers={"Authorization": f"Bearer {KEY}"},
            )
            assert added.status_code == 201, added.text
        yield running
    services.close()


def test_every_operation_conforms(server: LiveServer) -> None:
    """Each operation in turn (schemathesis' pytest loader does not run under this pytest);
    every failing operation is reported, not only the first."""
    api = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 8, [operation.label for operation in operations]
    failures: dict[str, str] = {}
    for operation in operations:
        try:
            check_operation(operation, server.url)
        except (Exception, BaseExceptionGroup) as error:  # schemathesis' FailureGroup
            failures[operation.label] = str(error)[:3000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


def check_operation(operation, url: str) -> None:
    # Random bytes are a schema-valid file part without being a picture or a video, so a 400
    # for them is right; every other check runs on uploads too.
    uploads = "multipart/form-data" in str(operation.definition.raw.get("requestBody", ""))
    excluded = [positive_data_acceptance] if uploads else []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=6,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def conforms(case) -> None:
        for headers in ({}, {"Authorization": f"Bearer {KEY}"}):  # a stranger, the owner
            case.call_and_validate(base_url=url, headers=headers, excluded_checks=excluded)

    conforms()
