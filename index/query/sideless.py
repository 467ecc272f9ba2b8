"""A window with one side on no edge: that side placed where the video's shape puts it.

A window with a drop shadow alone has an edge drawn for it on the two sides the shadow falls
on; the other two are the frame's content against the outer picture, and where both are of
about one colour (dark sky over dark sky) one of them has no edge at all, so no quadrilateral of
four lines is the window (`index.query.inner`). Its three other sides are lines, and the
window is the video, whose shape is known: the fourth side lies where `_ASPECT` puts it. Such a
rectangle counts only with a shadow cast on the sides away from the one placed
(`index.query.window.shadow_sides`; docs/pictures.md, 2026-12-01 07:30).
"""

from __future__ import annotations

import numpy as np

from index.query.bezel import ALONG
from index.query.lines import line_at, segment_support

_ASPECT = 16 / 9  # width / height of the window placed: a video's (a stream, an episode)
_UPRIGHT = np.radians(1.0)  # lines this near level or plumb can be a window's sides


def sideless_windows(
    near: np.ndarray, across: np.ndarray, down: np.ndarray, support: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upright rectangles of `_ASPECT` with three sides on the upright `across` and `down`
    lines, each on an edge of `near` (bool, the analysis copy) along `support` of it or more,
    and the fourth on less: corners (n, 4, 2) float32 (top-left first, clockwise), the weakest
    of the three sides' support (n,), and which side was placed (n,: 0 top, 1 right, 2 bottom,
    3 left)."""
    height, width = near.shape
    rows = line_at(across[np.abs(across[:, 1] - np.pi / 2) <= _UPRIGHT], width / 2, False)
    columns = line_at(down[np.abs(down[:, 1]) <= _UPRIGHT], height / 2, True)
    boxes, placed = [], []  # (left, top, right, bottom), the side placed
    for pairs, singles, side_first in ((columns, rows, 0), (rows, columns, 3)):
        first, second = np.triu_indices(len(pairs), k=1)
        low, high = pairs[first][:, None], pairs[second][:, None]
        line = np.broadcast_to(singles[None], (len(first), len(singles)))
        extent = (high - low) / _ASPECT if side_first == 0 else (high - low) * _ASPECT
        for side, start in ((side_first, line - extent), ((side_first + 2) % 4, line)):
            box = [low, start, high, start + extent] if side_first == 0 else [
                start, low, start + extent, high]  # fmt: skip
            boxes.append(np.stack(np.broadcast_arrays(*box), axis=-1).reshape(-1, 4))
            placed.append(np.full(boxes[-1].shape[0], side))
    if not boxes:
        return np.zeros((0, 4, 2), np.float32), np.zeros(0), np.zeros(0, np.intp)
    box, side = np.concatenate(boxes), np.concatenate(placed)
    left, top, right, bottom = box.T
    quads = np.stack(
        [np.stack(corner, axis=-1) for corner in
         ((left, top), (right, top), (right, bottom), (left, bottom))], axis=1
    ).astype(np.float32)  # fmt: skip
    # the side opposite the one placed first (one line between two), then the two meeting it
    rows_ = np.arange(len(quads))
    sides = np.zeros((len(quads), 4))
    for offset in (2, 1, 3):
        which = (side + offset) % 4
        ends = quads[rows_, which], quads[rows_, (which + 1) % 4]
        sides[rows_, which] = segment_support(near, *ends, ALONG)
        keep = sides[rows_, which] >= support
        quads, side, sides, rows_ = quads[keep], side[keep], sides[keep], np.arange(keep.sum())
    ends = quads[rows_, side], quads[rows_, (side + 1) % 4]
    edgeless = segment_support(near, *ends, ALONG) < support
    weakest = np.sort(sides, axis=1)[:, 1]  # the side placed holds 0
    return quads[edgeless], weakest[edgeless], side[edgeless]
