"""The pretrained embedding models (backbone + GAP + L2 norm), built from weights once and
cached as `.keras` (the source every conversion to LiteRT starts from)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import keras

from model.backbones import build_backbone
from model.keras_embedder import embedding_head

log = logging.getLogger(__name__)


def cached_pretrained(name: str, input_size: int, path: Path) -> keras.Model:
    """Load the built embedding model from `path`, or build it from the weights and cache it."""
    if path.is_file():
        try:
            return keras.saving.load_model(path, compile=False)
        except Exception as exc:  # a torn or stale file must not block startup: rebuild it
            log.warning("model cache %s unreadable (%s); rebuilding", path, exc)
    model = embedding_head(build_backbone(name, input_size, pretrained=True), name=name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")
        model.save(tmp)
        os.replace(tmp, path)  # atomic: concurrent loaders see the old state or the whole file
    except OSError as exc:  # a read-only cache costs speed, not correctness
        log.warning("cannot write model cache %s: %s", path, exc)
    return model
