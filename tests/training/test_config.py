"""TrainConfig: validation, the saved form, and the fields offered as `train` flags."""

from __future__ import annotations

import pytest

from training.config import FLAG, TrainConfig, flag_fields


def test_saved_form_round_trips_and_ignores_unknown_keys() -> None:
    config = TrainConfig(sampling="pk", frozen_layers=5, seed=3)
    assert TrainConfig.from_dict({**config.to_dict(), "gone": 1}) == config


def test_flag_fields_have_help_and_leave_internal_knobs_out() -> None:
    names = [field.name for field in flag_fields()]
    assert names[:3] == ["backbone", "input_size", "fit"]  # declaration order
    assert {"margin", "frozen_layers", "frozen_fraction", "workers"} <= set(names)
    assert not {"pretrained", "plateau_factor", "min_lr"} & set(names)
    assert all(field.metadata[FLAG] for field in flag_fields())


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"input_size": 16}, "input_size"),
        ({"fit": "stretch"}, "fit must be one of"),
        ({"sampling": "triplets"}, "sampling"),
        ({"mode": "frozen"}, "mode must be"),
        ({"head_decay": -1.0}, "head_decay"),
        ({"warmup_epochs": 0, "finetune_epochs": 0}, "epochs"),
        ({"frozen_fraction": 1.5}, "frozen_fraction"),
    ],
)
def test_invalid_values_are_refused_together(values, message) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig(**values)


def test_frozen_layer_count() -> None:
    assert TrainConfig().frozen_layer_count(100) == 60
    assert TrainConfig(frozen_layers=500).frozen_layer_count(100) == 100
