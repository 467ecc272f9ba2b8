"""Backbone factory: output shapes, resnet50's weights handling and in-model preprocessing."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from model.backbones import build_backbone
from model.builtin import RESNET50_WEIGHTS_ENV, BackboneError


def test_lite0_random_weights_give_the_head_feature_map() -> None:
    model = build_backbone("efficientnet-lite0", 96, pretrained=False)
    assert model.input_shape == (None, 96, 96, 3)
    assert model.output_shape == (None, 3, 3, 1280)


@pytest.mark.slow
def test_resnet50_random_weights_and_caffe_preprocessing() -> None:
    model = build_backbone("resnet50", 64, pretrained=False)
    assert model.output_shape == (None, 2, 2, 2048)
    caffe = keras.Model(model.input, model.get_layer("caffe_preprocess").output)
    pixel = np.zeros((1, 64, 64, 3), np.float32)
    pixel[..., :] = (200.0, 100.0, 50.0)  # RGB
    out = caffe.predict(pixel, verbose=0)[0, 0, 0]
    np.testing.assert_allclose(out, (50 - 103.939, 100 - 116.779, 200 - 123.68), atol=1e-3)


def test_resnet50_missing_weights_file_says_how_to_provide(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RESNET50_WEIGHTS_ENV, str(tmp_path / "absent.h5"))
    with pytest.raises(BackboneError, match="not found"):
        build_backbone("resnet50", 64)


def test_resnet50_bad_weights_file_says_how_to_provide(tmp_path: Path) -> None:
    bogus = tmp_path / "weights.h5"
    bogus.write_bytes(b"not hdf5")
    with pytest.raises(BackboneError, match=RESNET50_WEIGHTS_ENV):
        build_backbone("resnet50", 64, weights_path=bogus)


def test_unknown_backbone_and_tiny_input_are_refused() -> None:
    with pytest.raises(BackboneError, match="valid: efficientnet-lite0"):
        build_backbone("mobilenet", 224)
    with pytest.raises(BackboneError, match="at least 32"):
        build_backbone("efficientnet-lite0", 8, pretrained=False)
