"""Query views: bars trimmed, player windows cropped, mirror added, odd input never fatal."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image, ImageOps

from index.query.bars import _bar_run
from index.query.screenshot import query_views, video_box, video_sized
from synthetic.perturb import (
    downscale240,
    jpeg25,
    letterbox,
    pillarbox,
    player_window_with_box,
    subtitle,
)
from synthetic.pictures import crop_trim
from synthetic.render import render_frame
from synthetic.titles import make_titles

TITLES = make_titles(6, seed=11)


def _frames(count: int, seed: int) -> list[Image.Image]:
    rng = random.Random(seed)
    return [
        render_frame(TITLES[i % len(TITLES)], 1 + i % 2, rng.uniform(0, 30), (480, 270))
        for i in range(count)
    ]


def _close(size: tuple[int, int], expected: tuple[int, int], slack: float = 0.03) -> bool:
    return all(abs(a - b) <= slack * b + 2 for a, b in zip(size, expected, strict=True))


@pytest.mark.parametrize("bars", [letterbox, pillarbox])
def test_bars_are_trimmed_even_with_a_subtitle(bars) -> None:
    rng = random.Random(3)
    for index, frame in enumerate(_frames(12, seed=1)):
        shown = subtitle(frame, rng) if index % 2 else frame
        views = query_views(bars(shown, rng), mirror=False)
        assert _close(views[0].size, frame.size), (index, views[0].size)
        assert len(views) == 2  # the original stays as a fallback view


@pytest.mark.parametrize("bars", [letterbox, pillarbox])
def test_bars_are_trimmed_after_a_jpeg_re_encode(bars) -> None:
    """A re-encoded bar takes the picture's colour a few lines in (JPEG keeps colour at half
    resolution); the trim still stops at the picture, not before those lines."""
    rng = random.Random(3)
    for index, frame in enumerate(_frames(12, seed=1)):
        views = query_views(jpeg25(bars(frame, rng), rng), mirror=False)
        assert _close(views[0].size, frame.size), (index, views[0].size)


def test_player_window_is_cropped_to_the_video() -> None:
    rng = random.Random(5)
    found = 0
    frames = _frames(20, seed=2)
    for frame in frames:
        screenshot, box = player_window_with_box(frame, rng)
        view = query_views(screenshot, mirror=False)[0]
        expected = screenshot.crop(box)
        if _close(view.size, expected.size):
            found += 1
    assert found >= 18, f"player window found in {found} of {len(frames)} screenshots"


def test_plain_frames_are_left_alone_and_mirrored_last() -> None:
    for frame in _frames(12, seed=3):
        views = query_views(frame)
        assert len(views) == 2
        assert views[0] is frame or np.array_equal(np.asarray(views[0]), np.asarray(frame))
        assert np.array_equal(np.asarray(views[1]), np.asarray(ImageOps.mirror(frame)))


@pytest.mark.parametrize(
    "image",
    [
        Image.new("RGB", (1, 1)),
        Image.new("RGB", (300, 200), (12, 12, 12)),  # all flat: nothing to trim to
        Image.new("L", (64, 48), 128),
        Image.new("RGBA", (64, 48), (10, 200, 10, 0)),
        Image.new("P", (64, 48)),
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (90, 160, 3), np.uint8)),
    ],
)
def test_odd_images_never_fail(image: Image.Image) -> None:
    views = query_views(image)
    assert views and all(view.mode == "RGB" and view.width >= 1 for view in views)
    assert views[0].size == image.size


def _within(box: tuple[int, int, int, int] | None, truth: tuple[int, int, int, int], px: float):
    return box is not None and all(abs(a - b) <= px for a, b in zip(box, truth, strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_large_screenshots_are_analysed_small_and_cropped_to_a_pixel_of_the_copy(size) -> None:
    """The box found on the ~320 px analysis copy lands within 2 of its pixels at full size."""
    rng = random.Random(8)
    slack = 2 * size[0] / 320
    for index in range(4):
        frame = render_frame(TITLES[index], 1, rng.uniform(0, 30), size)
        for bars in (letterbox, pillarbox):
            screenshot = bars(frame, rng)
            left = (screenshot.width - frame.width) // 2
            top = (screenshot.height - frame.height) // 2
            truth = (left, top, left + frame.width, top + frame.height)
            box = video_box(screenshot)
            assert _within(box, truth, slack), (bars.__name__, index, box, truth)


@pytest.mark.slow
def test_large_player_windows_are_boxed_to_a_pixel_of_the_copy() -> None:
    """Where the window is found at all (a heuristic, tested above), its box is that precise."""
    rng = random.Random(9)
    found = 0
    for index in range(8):
        frame = render_frame(TITLES[index % len(TITLES)], 2, rng.uniform(0, 30), (1280, 720))
        screenshot, truth = player_window_with_box(frame, rng)
        analysis_pixel = screenshot.width / 320
        box = video_box(screenshot)
        if _within(box, truth, 10 * analysis_pixel):
            found += 1
            assert _within(box, truth, 2 * analysis_pixel), (index, box, truth)
    assert found >= 5, f"player window found in {found} of 8 screenshots"


def test_bar_run_judged_in_chunks_matches_judging_every_line() -> None:
    """`_flat_run` judges lines a chunk at a time; any decided answer must be the full one."""
    rng = np.random.default_rng(4)
    for _ in range(2000):
        limit = int(rng.integers(4, 90))
        flags = rng.random(limit + 1) < rng.uniform(0.2, 0.95)
        flags[: int(rng.integers(0, limit))] = True  # a bar, then anything
        full = _bar_run(flags, limit, max(3, limit * 0.18))
        assert full is not None
        for known in range(1, limit + 1):
            partial = _bar_run(flags[:known], limit, max(3, limit * 0.18))
            assert partial is None or partial == full, (flags.tolist(), known)


def test_a_video_frames_size_is_told_from_a_meme_trims() -> None:
    """Frames as players and screen grabs save them have a video's size; a meme trim (80-95% of
    the area, the aspect kept) of one never has, so its editing shows in its size alone."""
    for size in [(1920, 1080), (1280, 720), (854, 480), (640, 360), (640, 480), (1366, 768)]:
        assert video_sized(size), size
    frame = _frames(1, seed=2)[0]
    assert video_sized(frame.size) and video_sized(downscale240(frame, random.Random(0)).size)
    rng = random.Random(4)
    for size in [(640, 360), (1280, 720), (1920, 1080)]:
        for _ in range(20):
            trimmed = crop_trim(frame.resize(size), rng)
            assert not video_sized(trimmed.size), trimmed.size
    assert not video_sized((600, 600)) and not video_sized((1280, 719))
