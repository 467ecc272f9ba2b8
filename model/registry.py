"""Turn an embedder spec (a built-in name or an exported `.keras` path) into a ready `Embedder`."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import keras

from model.backbones import (
    BACKBONES,
    RESNET50,
    RESNET50_WEIGHTS_ENV,
    build_backbone,
    file_sha256,
    lite_weights_path,
    native_input_size,
)
from model.base import Embedder
from model.exported import load_exported
from model.keras_embedder import KerasEmbedder, embedding_head

DEFAULT_EMBEDDER = "efficientnet-lite0"
log = logging.getLogger(__name__)


class UnknownEmbedderError(ValueError):
    """The spec is neither a built-in embedder name nor an existing `.keras` file."""


def load_embedder(spec: str, cache_dir: Path, *, input_size: int | None = None) -> Embedder:
    """Built-in names use pretrained weights (pooled, L2-normalised); paths load exported models."""
    if spec.endswith(".keras"):
        return load_exported(spec)
    if spec not in BACKBONES:
        raise UnknownEmbedderError(
            f"unknown embedder {spec!r}; valid names: {', '.join(BACKBONES)}, "
            "or the path of an exported .keras model"
        )
    size = input_size or native_input_size(spec)
    return KerasEmbedder(_cached_pretrained(spec, size, Path(cache_dir)), name=spec)


def _weights_id(name: str) -> str:
    """What identifies the pretrained weights: the source file's sha256, so new weights rebuild."""
    if name == RESNET50:
        configured = os.environ.get(RESNET50_WEIGHTS_ENV)
        return file_sha256(Path(configured))[:16] if configured else "imagenet"
    return file_sha256(lite_weights_path(name))[:16]


def cache_path(name: str, input_size: int, cache_dir: Path) -> Path:
    return cache_dir / f"{name}-{input_size}-{_weights_id(name)}.keras"


def _cached_pretrained(name: str, input_size: int, cache_dir: Path) -> keras.Model:
    """Load the built embedding model from cache, or build it from the weights and cache it."""
    path = cache_path(name, input_size, cache_dir)
    if path.is_file():
        try:
            return keras.saving.load_model(path, compile=False)
        except Exception as exc:  # a torn or stale file must not block startup: rebuild it
            log.warning("model cache %s unreadable (%s); rebuilding", path, exc)
    model = embedding_head(build_backbone(name, input_size, pretrained=True), name=name)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")
        model.save(tmp)
        os.replace(tmp, path)  # atomic: concurrent loaders see the old state or the whole file
    except OSError as exc:  # a read-only cache costs speed, not correctness
        log.warning("cannot write model cache %s: %s", path, exc)
    return model
