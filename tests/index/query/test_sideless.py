"""A shadowed window with one side on no edge is found by placing that side from its shape."""

import numpy as np
import pytest

from index.query.inner import find_quads
from index.query.sideless import sideless_windows
from synthetic.pictures import picture_in_picture_with_box
from synthetic.render import render_frame
from synthetic.titles import make_titles

SIZE = (640, 360)


class _Replay:
    """The draws `picture_in_picture_with_box` made for one held-out picture, replayed in order."""

    def __init__(self, draws: list) -> None:
        self.draws = list(draws)

    def _next(self, *_args):
        return self.draws.pop(0)

    uniform = randrange = randint = choice = _next


def _box(left: float, top: float, right: float, bottom: float) -> np.ndarray:
    return np.float32([[left, top], [right, top], [right, bottom], [left, bottom]])


def test_the_side_without_an_edge_is_placed_by_the_aspect():
    """Three sides of a 16:9 rectangle on edges, the top on none: one rectangle, the top placed
    where 16:9 puts it; with the top on an edge too, none (it is an ordinary quadrilateral)."""
    near = np.zeros((180, 320), bool)
    near[160, 40:241] = True  # bottom
    near[0:161, 40] = near[0:161, 240] = True  # the sides run on up past the window
    across = np.float64([[160.0, np.pi / 2]])
    down = np.float64([[40.0, 0.0], [240.0, 0.0]])
    quads, support, placed = sideless_windows(near, across, down, 0.9)
    assert len(quads) == 1 and placed[0] == 0 and support[0] == 1.0
    assert np.abs(quads[0] - _box(40, 160 - 200 * 9 / 16, 240, 160)).max() < 1e-3
    near[47:49, 40:241] = True  # a top on an edge
    assert len(sideless_windows(near, across, down, 0.9)[0]) == 0


# bench.robustness's picture_in_picture, catalog seed 3: seed 16's picture 33 and seed 18's
# picture 4, both shadow only; the window's top is its frame's content against an outer picture
# of about its colour, with no edge. Title, (episode, seconds), the draws, the box
_TOP_ON_NO_EDGE = [
    (2, (1, 9.333), [536747, 1.6153332509339908, 4.901690865850455, 0.6172579652829866, 246, 76,
                     "shadow", 4, 3.29250463787122, 122, 62], (246, 76, 884, 435)),
    (0, (1, 0.833), [304091, 1.980530680939272, 6.366129991468105, 0.6954860182401272, 294, 85,
                     "shadow", 6, 5.484861838199283, 213, 75], (294, 85, 1176, 581)),
]  # fmt: skip


@pytest.mark.parametrize(("title", "moment", "draws", "box"), _TOP_ON_NO_EDGE)
def test_a_shadowed_window_whose_top_has_no_edge_is_found_first(title, moment, draws, box):
    """No quadrilateral of four lines is the window (before, docs/pictures.md 2026-12-01 07:30:
    none at all for the first, a rectangle of the outer picture 26% of the width off for the
    second); its left, right and bottom are lines, and the shadow falls right and below, so the
    rectangle with the top placed at 16:9 is the first, within 1.5% of the width."""
    frame = render_frame(make_titles(4, seed=3)[title], *moment, SIZE)
    canvas, _ = picture_in_picture_with_box(frame, _Replay(draws))  # type: ignore[arg-type]
    quads = find_quads(np.asarray(canvas))
    error = np.abs(quads[0] - _box(*box)).max() / canvas.width if quads else 1.0
    assert error <= 0.015, quads
