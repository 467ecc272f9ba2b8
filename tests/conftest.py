"""Session-wide fixtures: the real default embedder is built once per test run."""

from __future__ import annotations

import os
from pathlib import Path

import pymilvus  # noqa: F401  (first: see below)
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# pymilvus configures logging when imported (`logging.config.dictConfig`), which closes every
# handler made before. absl's, made when a test imports keras, writes to the stream pytest was
# capturing then, and closing it closed pytest's capture file: any training test before a
# Milvus one ended the run ("I/O operation on closed file"). Imported first, it closes none.


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
