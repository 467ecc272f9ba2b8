"""Pictures of pictures: screen photos, windows over other pictures and edit stacks are made
deterministically, with the frame where they say it is."""

import random

import numpy as np
import pytest
from PIL import Image

from synthetic.pictures import (
    PICTURES,
    STACKABLE,
    picture_in_picture_with_box,
    screen_photo_with_corners,
)
from synthetic.render import render_frame
from synthetic.titles import make_titles

SIZE = (320, 180)


@pytest.fixture(scope="module")
def frame() -> Image.Image:
    return render_frame(make_titles(1, seed=11)[0], 1, 2.0, SIZE)


@pytest.mark.parametrize("name", sorted(PICTURES))
def test_returns_a_changed_rgb_image_deterministically(frame, name):
    out = PICTURES[name](frame, random.Random(1))
    again = PICTURES[name](frame, random.Random(1))
    assert out.mode == "RGB" and np.array_equal(np.asarray(out), np.asarray(again))
    if out.size == frame.size:
        assert np.abs(np.asarray(out, np.int16) - np.asarray(frame, np.int16)).mean() > 0.5
    assert frame.size == SIZE  # the input is never modified in place


def test_a_screen_photo_shows_the_frame_as_a_convex_quadrilateral_inside_the_photo(frame):
    for seed in range(10):
        photo, corners = screen_photo_with_corners(frame, random.Random(seed))
        assert photo.width > frame.width  # a phone photo holds more pixels than the frame
        assert (corners >= 0).all() and (corners < photo.size).all()
        left, right = corners[[0, 3], 0].mean(), corners[[1, 2], 0].mean()
        top, bottom = corners[[0, 1], 1].mean(), corners[[2, 3], 1].mean()
        assert left < right and top < bottom
        share = (right - left) * (bottom - top) / (photo.width * photo.height)
        assert 0.3 <= share <= 0.85, share
        # the screen is darker than the frame (a dim exposure), but it is the frame
        inside = photo.crop((int(left) + 4, int(top) + 4, int(right) - 4, int(bottom) - 4))
        small = np.asarray(inside.resize((32, 18)).convert("L"), np.float32)
        truth = np.asarray(frame.resize((32, 18)).convert("L"), np.float32)
        assert np.corrcoef(small.ravel(), truth.ravel())[0, 1] > 0.5


def test_a_window_holds_the_frame_scaled_over_another_picture(frame):
    for seed in range(10):
        canvas, (left, top, right, bottom) = picture_in_picture_with_box(frame, random.Random(seed))
        assert 0 < left < right < canvas.width and 0 < top < bottom < canvas.height
        assert 0.45 * canvas.width - 2 <= right - left <= 0.7 * canvas.width + 2
        window = canvas.crop((left, top, right, bottom)).resize(SIZE)
        assert np.abs(np.asarray(window, np.int16) - np.asarray(frame, np.int16)).mean() < 12


def test_an_edit_stack_chains_two_to_four_ordinary_edits(frame):
    assert "crop70" not in STACKABLE and "player_window" not in STACKABLE
    sizes = {PICTURES["edit_stack"](frame, random.Random(seed)).size for seed in range(12)}
    assert len(sizes) > 1  # crops, bars and downscales change the size in some stacks
