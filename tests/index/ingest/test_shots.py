"""Fast tier: stretches from hand-made grey thumbnails (a still, a pan, cuts, fast action)."""

from __future__ import annotations

import numpy as np
import pytest

from index.ingest.shots import Stretch, StretchFinder

FPS = 10


def stretches(thumbs: list[np.ndarray], end: float, min_length: float = 0.5) -> list[Stretch]:
    """Feed frame i (its index as the frame) at i / FPS; every stretch, the last ending at `end`."""
    finder: StretchFinder[int] = StretchFinder(3.0, cut=10.0, still=0.6, min_length=min_length)
    found = [finder.push(i, i / FPS, thumb) for i, thumb in enumerate(thumbs)]
    last = finder.finish(end)
    return [s for s in [*found, last] if s is not None]


def flat(level: float) -> np.ndarray:
    return np.full((9, 16), level, np.float32)


def test_a_still_shot_is_one_frame_standing_until_the_cut() -> None:
    thumbs = [flat(50)] * 80 + [flat(200)] * 5  # 8 s still, then a cut
    found = stretches(thumbs, end=8.5)
    assert [(s.frame, s.start, s.end) for s in found] == [(0, 0.0, 8.0), (80, 8.0, 8.5)]


def test_in_a_pan_the_kept_frame_stands_in_the_middle_of_its_stretch() -> None:
    thumbs = [flat(50 + 0.5 * i) for i in range(60)]  # brightens 0.5 a frame: a slow move
    found = stretches(thumbs, end=6.0)
    assert found[0].start == 0.0 and found[-1].end == 6.0
    for before, after in zip(found, found[1:], strict=False):
        assert before.end == after.start  # stretches tile the video
    for stretch in found[:-1]:  # its kept frame is `change` (6 frames) from either end
        assert stretch.time - stretch.start == pytest.approx(0.6)
        assert stretch.end - stretch.time == pytest.approx(0.6)


def test_fast_action_and_quick_cuts_keep_at_most_one_frame_per_min_length() -> None:
    rng = np.random.default_rng(0)
    thumbs = [rng.uniform(0, 255, (9, 16)).astype(np.float32) for _ in range(40)]  # all cuts
    found = stretches(thumbs, end=4.0, min_length=0.5)
    assert len(found) == 4.0 / 0.5
    assert all(s.end - s.start == pytest.approx(0.5) for s in found)


def test_a_short_still_shot_between_cuts_keeps_its_own_frame() -> None:
    thumbs = [flat(50)] * 20 + [flat(150)] * 2 + [flat(250)] * 20
    found = stretches(thumbs, end=4.2)
    assert [(s.frame, s.start, s.end) for s in found] == [
        (0, 0.0, 2.0),
        (20, 2.0, 2.2),
        (22, 2.2, 4.2),
    ]


def test_a_hold_that_starts_to_move_is_a_stretch_of_its_own() -> None:
    thumbs = [flat(50)] * 30 + [flat(50 + i) for i in range(1, 31)]  # 3 s still, then a move
    found = stretches(thumbs, end=6.0)
    assert (found[0].frame, found[0].start, found[0].end) == (0, 0.0, 3.0)
    assert found[1].start == 3.0 and found[1].time > 3.0  # the move keeps a frame inside it


def test_a_hold_that_jumps_without_a_cut_still_ends_where_it_jumped() -> None:
    thumbs = [flat(50)] * 30 + [flat(56)] * 10  # 3 s still, then 6 levels brighter at once
    found = stretches(thumbs, end=4.0)
    assert [(s.frame, s.start, s.end) for s in found] == [(0, 0.0, 3.0), (30, 3.0, 4.0)]


def test_no_frames_no_stretch() -> None:
    assert StretchFinder(3.0, 10.0, 0.6, 0.5).finish(1.0) is None
