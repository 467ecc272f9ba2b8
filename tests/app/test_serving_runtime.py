"""Serving runs on LiteRT: once the model is converted, a server process never imports
TensorFlow or Keras, yet adds titles and identifies screenshots over the app's own routes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from model.base import Embedder

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter: the real app (lifespan opens the services from settings) on a
# new catalog, two generated titles added as screenshots, one screenshot identified.
SCRIPT = textwrap.dedent(
    """
    import io, json, sys
    from pathlib import Path

    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app
    from synthetic.render import render_frame
    from synthetic.titles import make_titles

    def jpeg(image):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=90)
        return buffer.getvalue()

    data_dir, cache_dir = Path(sys.argv[1]), Path(sys.argv[2])
    settings = Settings(data_dir=data_dir, cache_dir=cache_dir, seed_demo=False)
    styles = make_titles(2, seed=7)
    with TestClient(create_app(settings)) as client:
        for style in styles:
            files = [
                ("files", (f"{t}.jpg", jpeg(render_frame(style, 1, t)), "image/jpeg"))
                for t in (1.0, 4.0, 7.0)
            ]
            added = client.post("/titles", data={"name": style.name}, files=files)
            assert added.status_code == 201, added.text
        query = jpeg(render_frame(styles[1], 1, 4.0, (1280, 720)))
        answer = client.post("/identify", files={"image": ("q.jpg", query, "image/jpeg")})
        assert answer.status_code == 200, answer.text
    print(json.dumps({
        "expected": styles[1].name,
        "match": (answer.json()["match"] or {}).get("title"),
        "loaded": sorted(m for m in ("tensorflow", "keras", "jax") if m in sys.modules),
    }))
    """
)


@pytest.mark.slow
def test_server_identifies_without_importing_tensorflow(
    lite0_embedder: Embedder, model_cache_dir: Path, tmp_path: Path
) -> None:
    # The session fixture has converted and cached the default model; serving only reads it.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    env = {k: v for k, v in env.items() if not k.startswith("SHAZAM_")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "data"), str(model_cache_dir)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["loaded"] == [], result
    assert result["match"] == result["expected"], result
