"""The exported embedder in the server: a catalog built with it answers /identify over HTTP, a
catalog of its vectors refuses the default model, and `index reembed` switches it to another."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.cli import main
from app.config import Settings
from app.main import create_app
from app.services import Services, build_services, open_services, open_store
from index.errors import ModelMismatchError
from model.base import Embedder
from tests.training.short_run import Run

pytestmark = pytest.mark.slow  # trains (shared run) and serves over HTTP


def _identify(services: Services, image: Path) -> dict:
    """POST the image to /identify of an app sharing `services` (the server's own wiring)."""
    buffer = io.BytesIO()
    Image.open(image).convert("RGB").save(buffer, format="PNG")
    app = create_app(services.settings, services)
    with TestClient(app) as client:
        response = client.post("/identify", files={"image": ("query.png", buffer.getvalue())})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def catalog(run: Run, frame_tree: Path, model_cache_dir: Path, tmp_path: Path) -> Settings:
    """A fresh catalog of two generated titles (one episode each) embedded by the exported model."""
    settings = Settings(
        model=str(run[2].model_path),
        data_dir=tmp_path / "data",
        cache_dir=model_cache_dir,
        seed_demo=False,
    )
    services = open_services(settings)
    try:
        for folder in sorted(p for p in frame_tree.iterdir() if p.is_dir())[:2]:
            report = services.ingestor.ingest(folder.name, folder / "ep01")
            assert report.frames_added > 0 and not report.errors, report
    finally:
        services.close()
    return settings


def _query(frame_tree: Path) -> tuple[str, Path]:
    """An indexed frame of the first title, and that title."""
    title = sorted(p for p in frame_tree.iterdir() if p.is_dir())[0]
    return title.name, sorted((title / "ep01").glob("*.jpg"))[3]


def test_exported_model_serves_identify(catalog: Settings, frame_tree: Path) -> None:
    title, query = _query(frame_tree)
    services = open_services(catalog)
    try:
        assert services.embedder.dim == 64 and services.store.stats().frames > 0
        answer = _identify(services, query)
    finally:
        services.close()
    assert answer["match"] is not None, answer
    assert answer["match"]["title"] == title
    assert answer["neighbors"][0]["title"] == title


def test_default_model_is_refused_until_reembed(
    catalog: Settings,
    frame_tree: Path,
    lite0_embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lite0 = catalog.model_copy(update={"model": "efficientnet-lite0"})
    with pytest.raises(ModelMismatchError):
        open_store(lite0, lite0_embedder)

    monkeypatch.setenv("SHAZAM_SEED_DEMO", "false")
    argv = ["index", "reembed", "--data-dir", str(catalog.data_dir),
            "--cache-dir", str(catalog.cache_dir), "--model", "efficientnet-lite0"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    assert "now uses efficientnet-lite0" in capsys.readouterr().out

    title, query = _query(frame_tree)
    services = build_services(lite0, lite0_embedder, open_store(lite0, lite0_embedder))
    try:
        answer = _identify(services, query)
    finally:
        services.close()
    assert answer["match"] is not None and answer["match"]["title"] == title
    with pytest.raises(ModelMismatchError):  # and now the exported model is the stranger
        open_services(catalog)
