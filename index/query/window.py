"""A window's own edge: the border or the drop shadow a window drawn over a picture has.

Over a busy picture, larger rectangles of the outer picture's lines outrank a window by area
(`index.query.inner`); what the window has and they do not is an edge drawn for it. A border is a
line of one colour along all four sides (`framed`); a drop shadow darkens the outer picture just
outside two adjacent sides, less so further out (`shadowed`). Measured in `docs/pictures.md`.
"""

from __future__ import annotations

import cv2
import numpy as np

_SAMPLES = np.linspace(0.05, 0.95, 64)[:, None]  # where a side is sampled, end to end
_FRAME_OFFSETS = (-3.0, -1.5, 1.5, 3.0)  # full-size px across a refined side (+: out) of a border
_FRAME_LEVELS = 24.0  # max channel difference from the side's median colour within a border
_FRAME_SHARE = 0.95  # share of each side's samples, at one offset, in the border's colour
_SHADOW_NEAR = (0.5, 1.5)  # small-copy px outside a side: where a drop shadow is darkest
_SHADOW_FAR = (4.5, 7.0)  # ... and where the outer picture is mostly out of it
_SHADOW_DARKER = 0.9  # a sample is in shadow when this much (or less) as bright near as far
_SHADOW_LIT = 20.0  # grey level further out under which a shadow cannot be seen
_SHADOW_SHARE = 0.75  # share of a side's samples in shadow for the side to cast one


def framed(pixels: np.ndarray, quad: np.ndarray) -> bool:
    """Whether a refined window has a border: along each of its four sides, at one of
    `_FRAME_OFFSETS` across it, a line of one colour (the refinement stops at a border's outer
    edge when the picture inside is about as bright as the border, so a few pixels inside count
    too). A window drawn over a picture usually has one; a rectangle of the outer picture's own
    lines (the window and a wall or a building beside it) has the outer picture along some side
    (docs/pictures.md)."""
    lines = _across(pixels, quad, np.float32(_FRAME_OFFSETS))  # (sides, offsets, samples, 3)
    spread = np.abs(lines - np.median(lines, axis=2, keepdims=True)).max(axis=3)
    return bool(((spread <= _FRAME_LEVELS).mean(axis=2).max(axis=1) >= _FRAME_SHARE).all())


def shadowed(pixels: np.ndarray, quad: np.ndarray, scale: float) -> bool:
    """Whether a refined window casts a drop shadow: along two adjacent sides, most of the outer
    picture just outside is darker than it is a few pixels further out (`scale`: full-size px
    per small-copy px, so the bands keep their share of the picture). A window without a border
    often has only this (stream overlays, reaction videos); a rectangle of the outer picture's
    lines has the outer picture on both sides of that band, as bright near as far
    (docs/pictures.md, 2026-11-30 21:40)."""
    near, far = (np.linspace(*band, 4, dtype=np.float32) * scale
                 for band in (_SHADOW_NEAR, _SHADOW_FAR))  # fmt: skip
    lines = _across(pixels, quad, np.concatenate([near, far]))
    shade = lines[:, : len(near)].mean(axis=1)  # (sides, samples, 3)
    lit = lines[:, len(near) :].mean(axis=(1, 3))  # (sides, samples)
    dark = (shade.mean(axis=2) <= _SHADOW_DARKER * lit) & (lit >= _SHADOW_LIT)
    casts = dark.mean(axis=1) >= _SHADOW_SHARE  # top, right, bottom, left
    return bool((casts & np.roll(casts, -1)).any())


def _across(pixels: np.ndarray, quad: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The colours along each side of `quad` (top, right, bottom, left) at `offsets` full-size px
    across it (+: out), sampled at `_SAMPLES` in one remap: float32 (4, offsets, samples, 3)."""
    centre = quad.mean(axis=0)
    grids = []
    for side in range(4):
        start, end = quad[side], quad[(side + 1) % 4]
        along = (end - start) / max(1e-6, float(np.linalg.norm(end - start)))
        normal = np.float32([along[1], -along[0]])
        if (centre - start) @ normal > 0:
            normal = -normal  # outward
        points = start + _SAMPLES * (end - start)
        grids.append(points[None] + offsets[:, None, None] * normal)  # (offsets, samples, 2)
    grid = np.concatenate(grids, axis=1).astype(np.float32)
    x, y = (np.ascontiguousarray(grid[..., i]) for i in (0, 1))
    lines = cv2.remap(pixels, x, y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    lines = lines.astype(np.float32).reshape(len(offsets), 4, len(_SAMPLES), -1)
    return lines.transpose(1, 0, 2, 3)
