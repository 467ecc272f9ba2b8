"""EfficientNet-Lite in Keras 3, with its PyTorch (lukemelas-layout) ImageNet weights mapped in."""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np

from model.builtin import VARIANTS

# EfficientNet-B0 stages: (repeats, kernel, stride, expand, in, out).
_BASE_STAGES = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]
_STAGE_STRIDES = [s[2] for s in _BASE_STAGES]
BN_EPSILON = 1e-3  # the TF original's; PyTorch's default 1e-5 would shift every activation
STEM_FILTERS, HEAD_FILTERS = 32, 1280  # Lite fixes stem and head regardless of width


@dataclass(frozen=True)
class BlockSpec:
    kernel: int
    stride: int
    expand: int  # expansion ratio; 1 means no expand conv
    filters_in: int
    filters_out: int

    @property
    def residual(self) -> bool:
        return self.stride == 1 and self.filters_in == self.filters_out


def _round_filters(filters: int, width: float, divisor: int = 8) -> int:
    scaled = filters * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    return int(rounded + divisor if rounded < 0.9 * scaled else rounded)


def variant_blocks(name: str) -> list[BlockSpec]:
    """The block list of a Lite variant from its width/depth multipliers (for random init)."""
    width, depth, _ = VARIANTS[name]
    blocks: list[BlockSpec] = []
    for stage, (repeats, kernel, stride, expand, f_in, f_out) in enumerate(_BASE_STAGES):
        fixed = stage in (0, len(_BASE_STAGES) - 1)  # Lite keeps first/last stage depth
        count = repeats if fixed else math.ceil(depth * repeats)
        f_in = STEM_FILTERS if stage == 0 else _round_filters(f_in, width)
        f_out = _round_filters(f_out, width)
        for i in range(count):
            blocks.append(BlockSpec(kernel, stride if i == 0 else 1, expand, f_in, f_out))
            f_in = f_out
    return blocks


def blocks_from_state_dict(state: dict[str, np.ndarray]) -> list[BlockSpec]:
    """Derive the block list from checkpoint shapes; strides follow the stage boundaries.

    Every EfficientNet stage changes width, so a block whose channels change starts a stage.
    """
    blocks: list[BlockSpec] = []
    stage = -1
    for i in range(len({k.split(".")[1] for k in state if k.startswith("_blocks.")})):
        prefix = f"_blocks.{i}."
        depthwise = state[prefix + "_depthwise_conv.weight"]  # (c, 1, k, k)
        project = state[prefix + "_project_conv.weight"]  # (out, c, 1, 1)
        expand_w = state.get(prefix + "_expand_conv.weight")
        f_in = expand_w.shape[1] if expand_w is not None else depthwise.shape[0]
        f_out = project.shape[0]
        starts_stage = i == 0 or f_in != f_out
        stage += starts_stage
        if stage >= len(_STAGE_STRIDES):
            raise ValueError(f"checkpoint has more stages than EfficientNet ({stage + 1})")
        expand = depthwise.shape[0] // f_in
        stride = _STAGE_STRIDES[stage] if starts_stage else 1
        blocks.append(BlockSpec(depthwise.shape[2], stride, expand, f_in, f_out))
    return blocks


def _bn(name: str) -> keras.layers.BatchNormalization:
    return keras.layers.BatchNormalization(epsilon=BN_EPSILON, momentum=0.99, name=name)


def build_efficientnet_lite(
    blocks: list[BlockSpec], input_size: int, include_top: bool = False, name: str = "lite"
) -> keras.Model:
    """Float RGB 0..255 in; the 1280-channel head map out (or 1000 logits with include_top).

    Convs use TF "same" padding: the checkpoint was converted from TF and its PyTorch model
    pads asymmetrically (Conv2dStaticSamePadding) exactly like TF, so no explicit padding.
    """
    layers = keras.layers
    inputs = keras.Input((input_size, input_size, 3), name="rgb_0_255")
    # (x - 127) / 128, the TF Lite training normalisation (MEAN_RGB=127, STDDEV_RGB=128).
    x = layers.Rescaling(1 / 128, offset=-127 / 128, name="normalize")(inputs)
    x = layers.Conv2D(STEM_FILTERS, 3, 2, "same", use_bias=False, name="stem_conv")(x)
    x = layers.ReLU(6.0, name="stem_relu6")(_bn("stem_bn")(x))
    for i, b in enumerate(blocks):
        shortcut = x
        p = f"block{i}_"
        if b.expand != 1:
            x = layers.Conv2D(b.filters_in * b.expand, 1, use_bias=False, name=p + "expand")(x)
            x = layers.ReLU(6.0, name=p + "expand_relu6")(_bn(p + "expand_bn")(x))
        x = layers.DepthwiseConv2D(b.kernel, b.stride, "same", use_bias=False, name=p + "dw")(x)
        x = layers.ReLU(6.0, name=p + "dw_relu6")(_bn(p + "dw_bn")(x))
        x = layers.Conv2D(b.filters_out, 1, use_bias=False, name=p + "project")(x)
        x = _bn(p + "project_bn")(x)
        if b.residual:
            x = layers.Add(name=p + "add")([x, shortcut])
    x = layers.Conv2D(HEAD_FILTERS, 1, use_bias=False, name="head_conv")(x)
    x = layers.ReLU(6.0, name="head_relu6")(_bn("head_bn")(x))
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(1000, name="predictions")(x)
    return keras.Model(inputs, x, name=name)


def _bn_weights(state: dict[str, np.ndarray], prefix: str) -> list[np.ndarray]:
    return [state[prefix + s] for s in ("weight", "bias", "running_mean", "running_var")]


def load_torch_weights(model: keras.Model, state: dict[str, np.ndarray]) -> None:
    """Copy a lukemelas-layout state dict into a model built by `build_efficientnet_lite`."""

    def conv(layer: str, key: str) -> None:  # (out, in, kh, kw) -> (kh, kw, in, out)
        model.get_layer(layer).set_weights([state[key].transpose(2, 3, 1, 0)])

    def bn(layer: str, prefix: str) -> None:
        model.get_layer(layer).set_weights(_bn_weights(state, prefix))

    conv("stem_conv", "_conv_stem.weight")
    bn("stem_bn", "_bn0.")
    for i in range(sum(1 for layer in model.layers if layer.name.endswith("_dw"))):
        src, dst = f"_blocks.{i}.", f"block{i}_"
        if src + "_expand_conv.weight" in state:
            conv(dst + "expand", src + "_expand_conv.weight")
            bn(dst + "expand_bn", src + "_bn0.")
        # (c, 1, kh, kw) -> (kh, kw, c, 1): depthwise multiplier last, as Keras stores it.
        dw = state[src + "_depthwise_conv.weight"].transpose(2, 3, 0, 1)
        model.get_layer(dst + "dw").set_weights([dw])
        bn(dst + "dw_bn", src + "_bn1.")
        conv(dst + "project", src + "_project_conv.weight")
        bn(dst + "project_bn", src + "_bn2.")
    conv("head_conv", "_conv_head.weight")
    bn("head_bn", "_bn1.")
    if any(layer.name == "predictions" for layer in model.layers):
        model.get_layer("predictions").set_weights([state["_fc.weight"].T, state["_fc.bias"]])
