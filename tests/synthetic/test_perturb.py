"""Every perturbation returns an RGB image with the geometry its name promises."""

import random

import numpy as np
import pytest
from PIL import Image

from synthetic.perturb import (
    PERTURBATIONS,
    apply_perturbations,
    crop_any,
    player_window_with_box,
)
from synthetic.render import render_frame
from synthetic.titles import make_titles

SIZE = (320, 180)


@pytest.fixture(scope="module")
def frame() -> Image.Image:
    return render_frame(make_titles(1, seed=11)[0], 1, 2.0, SIZE)


def _diff(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).mean())


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_returns_a_changed_rgb_image_deterministically(frame, name):
    out = PERTURBATIONS[name](frame, random.Random(1))
    assert out.mode == "RGB" and out.width > 0 and out.height > 0
    again = PERTURBATIONS[name](frame, random.Random(1))
    assert np.array_equal(np.asarray(out), np.asarray(again))
    if out.size == frame.size:
        assert _diff(out, frame) > 0.5
    assert frame.size == SIZE  # the input is never modified in place


def test_a_crop_of_any_size_keeps_55_to_97_percent_at_the_frames_aspect(frame):
    shares = []
    for seed in range(40):
        crop = crop_any(frame, random.Random(seed))
        shares.append(crop.width * crop.height / (SIZE[0] * SIZE[1]))
        assert crop.width / crop.height == pytest.approx(SIZE[0] / SIZE[1], rel=0.03)
    assert 0.53 <= min(shares) < 0.65 and 0.88 < max(shares) <= 0.98  # spread over the range
    assert "crop_any" not in PERTURBATIONS  # training's augmentation and edit stacks: unchanged


def test_geometry(frame):
    w, h = SIZE
    rng = random.Random(3)
    crop = PERTURBATIONS["crop70"](frame, rng)
    assert crop.width * crop.height / (w * h) == pytest.approx(0.7, abs=0.02)
    box = PERTURBATIONS["letterbox"](frame, rng)
    assert box.width == w and box.height > h and np.asarray(box)[0].mean() < 20
    pillar = PERTURBATIONS["pillarbox"](frame, rng)
    assert pillar.height == h and pillar.width > w and np.asarray(pillar)[:, 0].mean() < 20
    flipped = PERTURBATIONS["flip"](frame, rng)
    assert np.array_equal(np.asarray(flipped)[:, ::-1], np.asarray(frame))
    small = PERTURBATIONS["downscale240"](render_frame(make_titles(1)[0], 1, 1.0, (640, 360)), rng)
    assert small.size == (427, 240)
    for name in ("subtitle", "jpeg25", "tint"):
        assert PERTURBATIONS[name](frame, rng).size == SIZE


def test_player_window_puts_the_frame_in_a_larger_page(frame):
    for seed in range(20):
        page, (left, top, right, bottom) = player_window_with_box(frame, random.Random(seed))
        assert page.width > frame.width and page.height > frame.height
        assert (right - left, bottom - top) == SIZE
        assert 0.45 <= (SIZE[0] * SIZE[1]) / (page.width * page.height) <= 0.72
        assert np.array_equal(np.asarray(page.crop((left, top, right, bottom))), np.asarray(frame))


def test_perturb_chains_and_rejects_unknown_names(frame):
    out = apply_perturbations(frame, ["flip", "jpeg25", "player_window"], random.Random(0))
    assert out.width > frame.width
    with pytest.raises(KeyError, match="unknown perturbation"):
        apply_perturbations(frame, ["flip", "smudge"], random.Random(0))


@pytest.mark.parametrize("image", [Image.new("L", (32, 18), 90), Image.new("RGBA", (5, 5)),
                                   Image.new("RGB", (1, 1))])  # fmt: skip
def test_odd_inputs_still_give_rgb(image):
    for name, fn in PERTURBATIONS.items():
        assert fn(image, random.Random(0)).mode == "RGB", name
