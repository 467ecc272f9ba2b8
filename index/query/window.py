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
_BORDER_DEPTH = 2.5  # small-copy px: the widest border a side is moved past (`inside_border`)
_SHADOW_NEAR = (0.5, 1.5)  # small-copy px outside a side: where a drop shadow is darkest
_SHADOW_FAR = (4.5, 7.0)  # ... and where the outer picture is mostly out of it
_SHADOW_DARKER = 0.9  # a sample is in shadow when this much (or less) as bright near as far
_SHADOW_LIT = 20.0  # grey level further out under which a shadow cannot be seen
_SHADOW_SHARE = 0.75  # share of a side's samples in shadow for the side to cast one
_BAND_DEPTH = 5.0  # small-copy px: the widest band of the outer picture a side is moved past
_BAND_SHARE = 0.85  # share of a band's samples (and of those past an end) in its colour
_BAND_PAST = (2.5, 6.0)  # small-copy px past a side's ends (beyond a border): where it goes on


def framed(pixels: np.ndarray, quad: np.ndarray) -> bool:
    """Whether a refined window has a border: along each of its four sides, at one of
    `_FRAME_OFFSETS` across it, a line of one colour (the refinement stops at a border's outer
    edge when the picture inside is about as bright as the border, so a few pixels inside count
    too). A window drawn over a picture usually has one; a rectangle of the outer picture's own
    lines (the window and a wall or a building beside it) has the outer picture along some side
    (docs/pictures.md)."""
    return _border(pixels, quad) is not None


def inside_border(pixels: np.ndarray, quad: np.ndarray, scale: float) -> np.ndarray:
    """A refined window with a border (`framed`) and each side that sits on the border's outer
    edge moved inward past the border's colour (the median of the colours `framed` found on the
    four sides): from the line a pixel inside (or two: the outermost may be blended with a
    shadow outside, 22:50), as long as the lines are of that colour, when that run ends within
    `_BORDER_DEPTH` small-copy px (`scale`: full-size px per small-copy px; a longer run is the
    picture's own). The refinement stops at a border's outer edge when the
    picture inside is about as bright as the border (the innermost strong step within its reach
    is the outer one), and the view keeps a few pixels of border on that side; only a bordered
    window moves, and only as far as its border's colour runs (docs/pictures.md, 22:40)."""
    colours = _border(pixels, quad)
    if colours is None:
        return quad
    colour = np.median(colours, axis=0)
    depth = int(np.ceil(_BORDER_DEPTH * scale))
    lines = _across(pixels, quad, -np.arange(1, depth + 1, dtype=np.float32))
    same = (np.abs(lines - colour).max(axis=3) <= _FRAME_LEVELS).mean(axis=2) >= _FRAME_SHARE
    same[:, 0] |= same[:, 1]  # the border's outermost line may be blended with a shadow outside
    run = np.argmin(same, axis=1)  # border lines from 1 px in; the side moves to the next one
    run = np.where(same.all(axis=1) | (run == 0), 0, run + 1)
    shifts = run[:, None] * _normals(quad)  # (+: out) top, right, bottom, left
    return (quad - shifts - np.roll(shifts, 1, axis=0)).astype(np.float32)


def past_outer_band(pixels: np.ndarray, quad: np.ndarray, scale: float) -> np.ndarray:
    """A window with each side that sits on the outer edge of a flat band of the outer picture
    moved inward past the band: the band ends within `_BAND_DEPTH` small-copy px (`scale`: full-size
    px per small-copy px) and goes on, in its colour, past both of the side's ends, outside the
    window. A long line of the outer picture a few pixels outside a window's side (the edge of a
    wall the window covers the rest of) outscores the window's own edge; the window's own flat
    content stops at its corners (docs/pictures.md, 2026-12-01 03:30)."""
    depth = int(np.ceil(_BAND_DEPTH * scale))
    offsets = -np.arange(1, depth + 1, dtype=np.float32)
    lines = _across(pixels, quad, offsets)  # (4, depth, samples, 3)
    medians = np.median(lines, axis=2)  # (4, depth, 3)
    band = medians[:, 1]  # the outermost line may be blended with what is outside
    flat = (np.abs(lines - band[:, None, None]).max(axis=3) <= _FRAME_LEVELS).mean(axis=2)
    same = flat >= _BAND_SHARE
    same[:, 0] = True
    run = np.argmin(same, axis=1)  # the first line off the band
    length = np.linalg.norm(np.roll(quad, -1, axis=0) - quad, axis=1)
    past = np.float32(_BAND_PAST) * scale / length[:, None]  # (4, 2) shares of each side
    shifts = np.zeros(4, dtype=np.float32)
    for side in np.flatnonzero((run >= 3) & ~same.all(axis=1)):
        near, far = past[side]
        ends = np.concatenate([-np.linspace(near, far, 8), 1 + np.linspace(near, far, 8)])
        beyond = _across(pixels, quad, offsets[1 : run[side] - 1], ends[:, None])[side]
        match = np.abs(beyond - band[side]).max(axis=2) <= _FRAME_LEVELS  # (offsets, 16)
        start, end = quad[side], quad[(side + 1) % 4]
        inside = [_within(pixels, start + share * (end - start)) for share in (-far, 1 + far)]
        if min(match[:, :8].mean() * inside[0], match[:, 8:].mean() * inside[1]) >= _BAND_SHARE:
            shifts[side] = run[side]
    moves = shifts[:, None] * _normals(quad)
    return (quad - moves - np.roll(moves, 1, axis=0)).astype(np.float32)


def _border(pixels: np.ndarray, quad: np.ndarray) -> np.ndarray | None:
    """The colour of a border along each side of a refined window (float32 (4, 3)): the median
    of the line of one colour `framed` finds there; None when a side has none."""
    lines = _across(pixels, quad, np.float32(_FRAME_OFFSETS))  # (sides, offsets, samples, 3)
    medians = np.median(lines, axis=2)  # (sides, offsets, 3)
    spread = np.abs(lines - medians[:, :, None]).max(axis=3)
    share = (spread <= _FRAME_LEVELS).mean(axis=2)  # (sides, offsets)
    if not (share.max(axis=1) >= _FRAME_SHARE).all():
        return None
    return medians[np.arange(4), share.argmax(axis=1)]


def shadowed(pixels: np.ndarray, quad: np.ndarray, scale: float) -> bool:
    """Whether a refined window casts a drop shadow: along two adjacent sides, most of the outer
    picture just outside is darker than it is a few pixels further out (`scale`: full-size px
    per small-copy px, so the bands keep their share of the picture). A window without a border
    often has only this (stream overlays, reaction videos); a rectangle of the outer picture's
    lines has the outer picture on both sides of that band, as bright near as far
    (docs/pictures.md, 2026-11-30 21:40)."""
    casts = shadow_sides(pixels, quad, scale)
    return bool((casts & np.roll(casts, -1)).any())


def shadow_sides(pixels: np.ndarray, quad: np.ndarray, scale: float) -> np.ndarray:
    """Which sides of a refined window (top, right, bottom, left) have most of the outer picture
    just outside darker than a few pixels further out (`shadowed`): bool (4,)."""
    near, far = (np.linspace(*band, 4, dtype=np.float32) * scale
                 for band in (_SHADOW_NEAR, _SHADOW_FAR))  # fmt: skip
    lines = _across(pixels, quad, np.concatenate([near, far]))
    shade = lines[:, : len(near)].mean(axis=1)  # (sides, samples, 3)
    lit = lines[:, len(near) :].mean(axis=(1, 3))  # (sides, samples)
    dark = (shade.mean(axis=2) <= _SHADOW_DARKER * lit) & (lit >= _SHADOW_LIT)
    return dark.mean(axis=1) >= _SHADOW_SHARE


def _across(
    pixels: np.ndarray, quad: np.ndarray, offsets: np.ndarray, samples: np.ndarray = _SAMPLES
) -> np.ndarray:
    """The colours along each side of `quad` (top, right, bottom, left) at `offsets` full-size px
    across it (+: out), sampled at `samples` (shares of each side, end to end) in one remap:
    float32 (4, offsets, samples, 3)."""
    points = quad[:, None] + samples * (np.roll(quad, -1, axis=0) - quad)[:, None]  # (4, n, 2)
    grid = points[None] + offsets[:, None, None, None] * _normals(quad)[None, :, None]
    grid = grid.reshape(len(offsets), -1, 2).astype(np.float32)  # (offsets, 4 x samples, 2)
    x, y = (np.ascontiguousarray(grid[..., i]) for i in (0, 1))
    lines = cv2.remap(pixels, x, y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    lines = lines.astype(np.float32).reshape(len(offsets), 4, len(samples), -1)
    return lines.transpose(1, 0, 2, 3)


def _within(pixels: np.ndarray, point: np.ndarray) -> bool:
    """Whether a full-size point lies in the picture (past its edge `_across` reflects it)."""
    return bool(0 <= point[0] < pixels.shape[1] and 0 <= point[1] < pixels.shape[0])


def _normals(quad: np.ndarray) -> np.ndarray:
    """The outward unit normals of `quad`'s sides (top, right, bottom, left): float32 (4, 2)."""
    along = np.roll(quad, -1, axis=0) - quad
    along = along / np.maximum(np.linalg.norm(along, axis=1, keepdims=True), 1e-6)
    normals = np.stack([along[:, 1], -along[:, 0]], axis=1)
    inward = ((quad.mean(axis=0) - quad) * normals).sum(axis=1) > 0
    return np.where(inward[:, None], -normals, normals).astype(np.float32)
