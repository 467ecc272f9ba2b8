"""The service on Milvus (milvus-lite): the HTTP round trip, and `index migrate` between engines."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image

from app.cli import main
from synthetic import apply_perturbations, make_titles, render_frame
from tests.app.conftest import make_settings, serving
from tests.app.media import jpeg_bytes
from tests.index.storekit import clustered, frames, source


def test_add_identify_delete_over_http_on_milvus(tmp_path: Path, lite0_embedder) -> None:
    first, second = make_titles(2, seed=31)
    settings = make_settings(tmp_path / "data", vector_backend="milvus")
    with serving(settings, lite0_embedder) as server, server.client() as client:
        assert client.get("/health").json()["vector_backend"] == "milvus"
        for style in (first, second):
            files = [
                (
                    "files",
                    (f"{t}.jpg", jpeg_bytes(render_frame(style, 1, t, (480, 270))), "image/jpeg"),
                )
                for t in (1, 4, 7)
            ]
            added = client.post("/titles", data={"name": style.name}, files=files)
            assert added.status_code == 201, added.text
        query: Image.Image = apply_perturbations(
            render_frame(second, 1, 4, (640, 360)), ["jpeg25"], random.Random(1)
        )
        image = {"image": ("q.jpg", jpeg_bytes(query), "image/jpeg")}
        answer = client.post("/identify", files=image).json()
        assert answer["match"]["title"] == second.name
        title_id = answer["match"]["title_id"]
        assert client.delete(f"/titles/{title_id}").status_code == 204
        after = client.post("/identify", files=image).json()
        assert after["match"] is None or after["match"]["title"] != second.name
    assert (tmp_path / "data" / "milvus.db").exists()


def test_migrate_fills_milvus_from_the_catalog_and_back(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    from index.store.frame_store import FrameStore

    monkeypatch.delenv("SHAZAM_VECTOR_BACKEND", raising=False)
    data = tmp_path / "data"
    vectors = clustered(40, 16, 8, seed=3)
    with FrameStore.open(data, dim=16, model_name="m") as store:
        store.add(source("Alpha", "a"), frames(40, "a"), vectors)
    assert main(["index", "migrate", "--to", "milvus", "--data-dir", str(data)]) == 0
    assert "milvus now holds 40 of 40 frames" in capsys.readouterr().out
    monkeypatch.setenv("SHAZAM_VECTOR_BACKEND", "milvus")
    assert main(["index", "list", "--data-dir", str(data)]) == 0
    assert "1 titles, 40 frames" in capsys.readouterr().out
    assert main(["index", "remove", "Alpha", "--data-dir", str(data)]) == 0
    monkeypatch.delenv("SHAZAM_VECTOR_BACKEND")
    # Back to hnswlib: its checkpoint still holds Alpha, the catalog does not; migrate repairs.
    assert main(["index", "migrate", "--to", "hnswlib", "--data-dir", str(data)]) == 0
    assert "hnswlib now holds 0 of 0 frames" in capsys.readouterr().out
