"""QueryAugment: how often and how many perturbations, reproducible from the generator."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image, ImageOps

from training.augment import QueryAugment

FRAME = Image.linear_gradient("L").convert("RGB").resize((64, 36))


def _recording(calls: list[str]) -> dict:
    def make(name: str):
        def perturb(image: Image.Image, rng: random.Random) -> Image.Image:
            calls.append(name)
            return ImageOps.invert(image)

        return perturb

    return {name: make(name) for name in ("a", "b", "c")}


def test_probability_zero_returns_the_frame_untouched() -> None:
    augment = QueryAugment(0.0)
    assert augment(FRAME, np.random.default_rng(0)) is FRAME


def test_one_to_max_ops_distinct_perturbations_each_time() -> None:
    calls: list[str] = []
    augment = QueryAugment(1.0, max_ops=2, perturbations=_recording(calls))
    counts = set()
    for seed in range(40):
        calls.clear()
        augment(FRAME, np.random.default_rng(seed))
        assert 1 <= len(calls) <= 2 and len(set(calls)) == len(calls)
        counts.add(len(calls))
    assert counts == {1, 2}


def test_the_same_generator_state_gives_the_same_image() -> None:
    augment = QueryAugment(1.0)
    first = augment(FRAME, np.random.default_rng([4, 2]))
    again = augment(FRAME, np.random.default_rng([4, 2]))
    assert np.array_equal(np.asarray(first), np.asarray(again))
    assert not np.array_equal(np.asarray(first), np.asarray(FRAME.resize(first.size)))


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        QueryAugment(1.5)
    with pytest.raises(ValueError):
        QueryAugment(0.5, max_ops=0)
