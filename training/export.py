"""Model surgery: keep only the trained embedding branch and export it for `serve --model PATH`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras

from model.exported import save_exported
from training.config import TrainConfig


def export_embedding(
    embedding: keras.Model, path: Path, config: TrainConfig, extra: dict[str, Any] | None = None
) -> Path:
    """Write `path` (.keras) + metadata; the Siamese wrapper and the loss are left behind.

    The exported model takes float RGB 0..255 at `config.input_size` and gives unit vectors, so
    the server loads it through `model.registry.load_embedder(path)` like any built-in backbone.
    """
    meta = {
        "name": Path(path).stem,
        "backbone": config.backbone,
        "fit": config.fit,
        "training": {"method": "siamese-contrastive", **config.to_dict(), **(extra or {})},
    }
    return save_exported(embedding, Path(path), meta)
