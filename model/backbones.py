"""Feature extractors: float RGB 0..255 in, preprocessing inside, last feature map out."""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np

from model.builtin import (
    RESNET50,
    RESNET50_WEIGHTS_ENV,
    BackboneError,
    check_name,
    lite_weights_path,
)
from model.efficientnet_lite import (
    blocks_from_state_dict,
    build_efficientnet_lite,
    load_torch_weights,
    variant_blocks,
)
from model.torch_pth import load_state_dict

# keras.applications' caffe mode: BGR order, ImageNet channel means subtracted, no scaling.
_CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], np.float32)


def build_backbone(
    name: str,
    input_size: int,
    pretrained: bool = True,
    cache_dir: Path | None = None,
    weights_path: Path | None = None,
) -> keras.Model:
    """Build a backbone; `pretrained=False` gives random weights (tests, training's baseline).

    `cache_dir` is accepted for the contract; built models are cached by `model.registry`.
    `weights_path` overrides where pretrained weights come from (a .pth for Lite, a Keras
    `.h5`/`.weights.h5` without top for resnet50).
    """
    check_name(name)
    if input_size < 32:
        raise BackboneError(f"input_size must be at least 32 pixels, got {input_size}")
    if name == RESNET50:
        return _build_resnet50(input_size, pretrained, weights_path)
    if not pretrained:
        return build_efficientnet_lite(variant_blocks(name), input_size, name=name)
    state = load_state_dict(weights_path or lite_weights_path(name))
    model = build_efficientnet_lite(blocks_from_state_dict(state), input_size, name=name)
    load_torch_weights(model, state)
    return model


def _build_resnet50(input_size: int, pretrained: bool, weights_path: Path | None) -> keras.Model:
    weights: str | None = None
    if pretrained:
        configured = weights_path or os.environ.get(RESNET50_WEIGHTS_ENV)
        if configured and not Path(configured).is_file():
            raise BackboneError(f"resnet50 weights file not found: {configured}")
        weights = str(configured) if configured else "imagenet"
    inputs = keras.Input((input_size, input_size, 3), name="rgb_0_255")
    # Caffe preprocessing as a frozen 1x1 conv (RGB->BGR swap, mean subtracted) so the model
    # serialises with built-in layers only and needs no custom objects to load.
    caffe = keras.layers.Conv2D(3, 1, name="caffe_preprocess", trainable=False)
    x = caffe(inputs)
    caffe.set_weights([np.eye(3, dtype=np.float32)[::-1].reshape(1, 1, 3, 3), -_CAFFE_MEAN_BGR])
    try:
        base = keras.applications.ResNet50(
            include_top=False, weights=weights, input_shape=(input_size, input_size, 3)
        )
    except Exception as exc:  # download failure or a wrong file: say how to fix it
        raise BackboneError(
            f"cannot load ImageNet weights for resnet50 ({exc}). Download "
            "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5 and point "
            f"{RESNET50_WEIGHTS_ENV} (or weights_path) at it, or use pretrained=False"
        ) from exc
    return keras.Model(inputs, base(x), name=RESNET50)
