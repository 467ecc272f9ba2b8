"""Rendered frames: deterministic, alike within a shot, clearly different across cuts and titles."""

import numpy as np
import pytest

from synthetic.render import render_frame
from synthetic.shots import episode_shots, shot_at
from synthetic.titles import make_titles

SIZE = (320, 180)


def _diff(a, b) -> float:
    return float(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).mean())


@pytest.fixture(scope="module")
def titles():
    return make_titles(4, seed=7)


def test_same_inputs_give_identical_pixels(titles):
    first = render_frame(titles[0], 2, 3.25, SIZE)
    assert first.mode == "RGB" and first.size == SIZE
    # A fresh style object equal to the first must not depend on caches for its pixels.
    again = render_frame(make_titles(4, seed=7)[0], 2, 3.25, SIZE)
    assert np.array_equal(np.asarray(first), np.asarray(again))


def test_frames_within_a_shot_are_similar_but_not_identical(titles):
    kinds = set()
    for style in titles:
        for shot in episode_shots(style, 1, 30.0)[:5]:
            kinds.add("zoom" if shot.cam_from.zoom != shot.cam_to.zoom else "pan")
            a = render_frame(style, 1, shot.start + 1.0, SIZE)
            b = render_frame(style, 1, shot.start + 1.5, SIZE)
            # Busy sets (city windows) shift a few pixels per half second; skies barely change.
            assert 0.0 < _diff(a, b) < 25.0
    assert kinds == {"pan", "zoom"}  # both camera paths of the renderer were exercised


@pytest.mark.parametrize("size", [(224, 224), (100, 300), (16, 16)])
def test_any_frame_shape_renders(titles, size):
    for t in (0.0, 5.0, 13.3):
        frame = render_frame(titles[3], 1, t, size)
        assert frame.mode == "RGB" and frame.size == size


def test_titles_differ_much_more_than_frames_within_a_shot(titles):
    within, across = [], []
    for style in titles:
        for shot in episode_shots(style, 1, 30.0)[:3]:
            t = shot.start + 0.5
            within.append(
                _diff(render_frame(style, 1, t, SIZE), render_frame(style, 1, t + 0.5, SIZE))
            )
    frames = [render_frame(style, 1, 4.0, SIZE) for style in titles]
    for i in range(len(frames)):
        for j in range(i + 1, len(frames)):
            across.append(_diff(frames[i], frames[j]))
    assert np.mean(across) > 4 * np.mean(within)
    assert min(across) > 2.5 * np.median(within)


def test_a_cut_changes_the_frame(titles):
    style = titles[1]
    shots = episode_shots(style, 3, 30.0)
    for before, after in zip(shots, shots[1:4], strict=False):
        assert before.location != after.location
        end_of_shot = render_frame(style, 3, after.start - 0.05, SIZE)
        start_of_next = render_frame(style, 3, after.start + 0.01, SIZE)
        assert shot_at(style, 3, after.start + 0.01).index == after.index
        assert _diff(end_of_shot, start_of_next) > 15.0


def test_episodes_differ_and_shots_tile_time(titles):
    style = titles[2]
    shots = episode_shots(style, 1, 60.0)
    assert shots[0].start == 0.0 and shots[-1].end >= 60.0
    for a, b in zip(shots, shots[1:], strict=False):
        assert b.start == pytest.approx(a.end) and 3.0 <= a.duration <= 6.0
    assert episode_shots(style, 1, 60.0) != episode_shots(style, 2, 60.0)
    assert _diff(render_frame(style, 1, 10.0, SIZE), render_frame(style, 2, 10.0, SIZE)) > 5.0


def test_long_plans_extend_short_ones(titles):
    short = episode_shots(titles[0], 1, 100.0)
    long = episode_shots(titles[0], 1, 1500.0)
    assert long[: len(short)] == short


@pytest.mark.parametrize("t", [-1.0, float("nan"), float("inf")])
def test_bad_time_is_rejected(titles, t):
    with pytest.raises(ValueError, match="time"):
        render_frame(titles[0], 1, t, SIZE)


def test_bad_size_is_rejected(titles):
    with pytest.raises(ValueError, match="frame size"):
        render_frame(titles[0], 1, 0.0, (4, 4))
