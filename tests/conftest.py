"""Session-wide fixtures: the real default embedder is built once per test run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def model_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Model cache shared across the run; SHAZAM_TEST_CACHE keeps it between runs."""
    configured = os.environ.get("SHAZAM_TEST_CACHE")
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def lite0_embedder(model_cache_dir: Path):
    """The real pretrained EfficientNet-Lite0 embedder, as the server loads it by default."""
    from model.registry import load_embedder

    return load_embedder("efficientnet-lite0", cache_dir=model_cache_dir)
