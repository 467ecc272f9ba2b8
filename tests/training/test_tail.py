"""`train --mode tail`: the backbone's last blocks fine-tuned on cached trunk activations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model.backbones import build_backbone
from model.convert import checked_conversion
from model.exported import load_exported, read_metadata
from tests.training.short_run import TINY_CONFIG
from training.config import TrainConfig
from training.siamese import backbone_of
from training.tail import split_backbone


def test_the_trunk_then_the_tail_is_the_backbone_cut_before_its_last_blocks() -> None:
    backbone = build_backbone("efficientnet-lite0", 64, pretrained=False)
    trunk, tail, first = split_backbone(backbone, 2)
    assert backbone.layers[first].name == "block14_expand"  # Lite0 has 16 blocks, 0..15
    images = np.random.default_rng(0).uniform(0, 255, (3, 64, 64, 3)).astype(np.float32)
    assert np.allclose(tail(trunk(images)), backbone(images), atol=1e-5)
    assert tail.get_layer("head_conv") is backbone.get_layer("head_conv")  # shared, not copied
    with pytest.raises(ValueError, match="16 MBConv blocks"):
        split_backbone(backbone, 17)
    with pytest.raises(ValueError, match="tail_blocks"):
        TrainConfig(mode="tail", tail_blocks=0)


@pytest.mark.slow
def test_tail_mode_trains_only_the_last_blocks_and_exports_the_branch(
    frame_tree: Path, tmp_path: Path
) -> None:
    from training.train import train

    config = TrainConfig(
        **{**TINY_CONFIG.to_dict(), "mode": "tail", "tail_blocks": 2, "tail_views": 1,
           "finetune_epochs": 2, "steps_per_epoch": 8, "finetune_lr": 1e-3}
    )  # fmt: skip
    result = train(frame_tree, tmp_path / "run", config, verbose=0)
    tail = result.report["tail"]
    frames = len(result.split.train)
    assert tail["activations"] == 2 * frames  # each frame clean and once perturbed, cached once
    assert tail["first_layer"] == "block14_expand" and len(tail["epoch_losses"]) == 2
    assert read_metadata(result.model_path)["training"]["method"] == "tail-on-cached-activations"

    trained = backbone_of(load_exported(result.model_path).model)
    pretrained = build_backbone("efficientnet-lite0", 64)
    moved = {
        layer.name
        for layer in pretrained.layers
        if layer.weights
        and not all(
            np.array_equal(a, b)
            for a, b in zip(
                layer.get_weights(), trained.get_layer(layer.name).get_weights(), strict=True
            )
        )
    }
    # The convolutions of blocks 14-15 and the head conv learned; the trunk and every
    # BatchNorm are as pretrained.
    assert moved == {
        "block14_expand", "block14_dw", "block14_project",
        "block15_expand", "block15_dw", "block15_project", "head_conv",
    }  # fmt: skip
    assert checked_conversion(load_exported(result.model_path).model)  # LiteRT serves it
