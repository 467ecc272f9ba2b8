"""Fit policies: a screenshot of any shape and mode becomes an RGB square of the right content."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from model.fit import FIT_POLICIES, fit_array, fit_batch, fit_image

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def _thirds(width: int = 1280, height: int = 720) -> Image.Image:
    """Red left third, green middle, blue right: tells the policies apart."""
    pixels = np.zeros((height, width, 3), np.uint8)
    third = width // 3
    pixels[:, :third] = RED
    pixels[:, third : 2 * third] = GREEN
    pixels[:, 2 * third :] = BLUE
    return Image.fromarray(pixels)


@pytest.mark.parametrize("policy", FIT_POLICIES)
@pytest.mark.parametrize("size", [(1280, 720), (720, 1280), (1, 1), (3000, 7)])
def test_every_policy_gives_the_square(policy: str, size: tuple[int, int]) -> None:
    out = fit_array(Image.new("RGB", size, (10, 20, 30)), 64, policy)
    assert out.shape == (64, 64, 3) and out.dtype == np.float32


def test_resize_keeps_all_content() -> None:
    out = fit_array(_thirds(), 60, "resize")
    assert tuple(out[30, 5]) == RED and tuple(out[30, 30]) == GREEN and tuple(out[30, 55]) == BLUE


def test_center_crop_keeps_the_middle() -> None:
    out = fit_array(_thirds(), 60, "center-crop")
    green_share = np.mean(np.all(out[30] == GREEN, axis=1))
    # The crop keeps x 280..1000 of 1280, of which green (426..852) is 59%, not resize's 33%.
    assert 0.55 < green_share < 0.63


def test_pad_letterboxes_with_black_bars() -> None:
    out = fit_array(_thirds(), 64, "pad")
    assert tuple(out[2, 32]) == (0, 0, 0) and tuple(out[61, 32]) == (0, 0, 0)  # bars
    assert tuple(out[32, 2]) == RED and tuple(out[32, 61]) == BLUE  # full width kept


def test_modes_are_converted_to_rgb() -> None:
    gray = Image.new("L", (40, 30), 128)
    assert tuple(fit_array(gray, 8)[4, 4]) == (128, 128, 128)
    transparent = Image.new("RGBA", (40, 30), (255, 255, 255, 0))
    assert tuple(fit_array(transparent, 8)[4, 4]) == (0, 0, 0)  # flattened on black
    assert fit_image(Image.new("P", (40, 30)), 8).mode == "RGB"


def test_bad_arguments_fail_clearly() -> None:
    with pytest.raises(ValueError, match="unknown fit policy"):
        fit_image(_thirds(), 32, "stretch")
    with pytest.raises(ValueError, match="positive"):
        fit_image(_thirds(), 0)
    with pytest.raises(TypeError, match="PIL image"):
        fit_image(np.zeros((4, 4, 3)), 8)  # type: ignore[arg-type]


def test_batch_stacks_and_handles_empty() -> None:
    assert fit_batch([_thirds(), _thirds(50, 50)], 16).shape == (2, 16, 16, 3)
    assert fit_batch([], 16).shape == (0, 16, 16, 3)
