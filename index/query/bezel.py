"""A quadrilateral found on the small copy, moved onto the picture's own edge.

`index.query.inner` finds a screen or a window as the best quadrilateral of long edges; its
outer edge is often a bezel's, a border's or a shadow's. `peeled` swaps it for a nested one
with a flat band of one colour between them on two or more sides (a bezel); `refined` moves
each side at full size onto the picture's own edge, past a dark bezel the small copy found no
line for. Measured in `docs/pictures.md`.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

_MAX_PEEL = 0.12  # of a side: the widest bezel peeled off a quadrilateral
_FLAT_GRADIENT = 12.0  # Sobel magnitude (grey levels) below which a pixel is flat
_FLAT_SHARE = 0.9  # share of a band's middle line that must be flat for it to be a bezel
_BEZEL_TOLERANCE = 40.0  # max channel difference between a bezel's sides (glare brightens one)
_DARK_BEZEL = 60.0  # a line across a side this dark (every channel) and flat may be bezel
_FLAT_LINE = 8.0  # grey spread along a side (about its linear trend) under which a line is flat
_BEZEL_STEP = 25.0  # colour step (a channel's levels) from a bezel's last line into the picture
_STEP_SPAN = 4  # lines past a bezel over which that step is taken (blur, a side's slant)
_BEZEL_SPREAD = 2  # a bezel's two halves walk within this factor (+ `_STEP_SPAN`) of each other
_MIN_BAND = 2.0  # px of the analysis copy: a thinner band between two sides is one edge
_REFINE_REACH = 2.5  # small-copy pixels a side may move when refined at full size
_REFINE_STEP = 12.0  # mean colour step (grey levels) across a side that counts as its edge
_SHADOW_RAMP = 10.0  # grey levels a shadow a window's side sits in darkens by, walked inward
_SCREEN_INSET = 1.0  # full-size px a screen's side is moved further in, past its step's blur
ALONG = np.linspace(0.05, 0.95, 32)[:, None]  # where a side is sampled, from one end to the other


def refined(
    pixels: np.ndarray, quad: np.ndarray, scale: float, upright: bool = False
) -> np.ndarray:
    """`quad` with each side moved, at full size, onto the picture's own edge.

    Found on the small copy, a side is off by a pixel or two of it (several at full size), and
    may sit on the outside of a window's border or a shadow, which the re-rank then reads as a
    different crop. Each half of each side is moved within `_REFINE_REACH` of its small-copy
    pixels to just inside the innermost strong step in colour across it (a border, a shadow and
    a bezel are uniform along the side; the picture starts where that ends), then past a bezel
    the small copy found no line for (`_past_bezel`), when both halves find it, and on a screen
    `_SCREEN_INSET` further in; the corners are where the moved sides meet. `upright` (a
    window, an upright rectangle): a side in the ramp of its drop shadow first walks down it
    (`_past_shadow`), and both halves of a side move as far as the deeper one, so a step inside
    the picture on one half (a character's hair against the border) cannot slant the window
    into a warped view (docs/pictures.md)."""
    reach = int(np.ceil(_REFINE_REACH * scale))
    # a bezel is walked over up to `_MAX_PEEL` of the picture's extent across it: a screen's
    # left and right bezels are as wide as its top and bottom ones, not a share of its height
    # (docs/pictures.md, 2026-12-01 05:30)
    width, height = quad_sides(quad)
    deeps = [max(reach, int(_MAX_PEEL * (height if side % 2 == 0 else width))) for side in range(4)]
    offsets = np.arange(-reach, max(deeps) + 1, dtype=np.float32)
    centre = quad.mean(axis=0)
    grids, middles, normals = [], [], []
    for side in range(4):
        start, end = quad[side], quad[(side + 1) % 4]
        along = (end - start) / max(1e-6, float(np.linalg.norm(end - start)))
        normal = np.float32([-along[1], along[0]])
        if (centre - start) @ normal < 0:
            normal = -normal  # inward
        normals.append(normal)
        for lo, hi in ((0.1, 0.45), (0.55, 0.9)):
            points = start + np.linspace(lo, hi, 24)[:, None] * (end - start)  # (24, 2)
            grids.append(points[None] + offsets[:, None, None] * normal)  # (offsets, 24, 2)
            middles.append(points.mean(axis=0))
    # all eight half-sides sampled in one remap: its cost is mostly per call
    grid = np.concatenate(grids, axis=1)
    x, y = (np.ascontiguousarray(grid[..., i], dtype=np.float32) for i in (0, 1))
    profiles = cv2.remap(pixels, x, y, cv2.INTER_LINEAR).astype(np.float32)
    lines = []
    for side, normal in enumerate(normals):
        halves = []
        for half in (2 * side, 2 * side + 1):
            profile = np.ascontiguousarray(
                profiles[: reach + deeps[side] + 1, 24 * half : 24 * (half + 1)]
            )
            steps = np.abs(np.diff(profile[: 2 * reach + 1], axis=0)).mean(axis=(1, 2))
            at = reach
            if steps.max() >= _REFINE_STEP:
                at = int(np.flatnonzero(steps >= 0.5 * steps.max()).max() + 1)
            if upright:  # a window's side on its drop shadow's soft outer edge
                at = _past_shadow(profile, at)
            # the second half's walk counts only when the first half's found a bezel (below)
            walks = not halves or halves[0][2] != halves[0][1]
            past = _past_bezel(profile, at) if walks else at
            halves.append((middles[half], at, past))
        # a bezel runs along the whole side: walked over only when both halves find it, and
        # about as far: a walk much longer than the other half's went on into a dark, flat
        # part of the picture, and stops as far in (docs/pictures.md, 2026-12-01 00:50)
        walked = all(past != at for _, at, past in halves)
        moves = [past if walked else at for _, at, past in halves]
        depths = [past - at for _, at, past in halves]
        if walked and max(depths) > _BEZEL_SPREAD * min(depths) + _STEP_SPAN:
            moves = [at + min(depths) for _, at, _ in halves]
        if upright:  # a window's side stays upright: both halves move to the deeper edge
            moves = [max(moves)] * 2
        # a screen's side moves `_SCREEN_INSET` past the line its step fell to: the photo's blur
        # still darkens that line with the bezel, and the view with a dark rim answers a
        # neighbouring frame (docs/pictures.md, 2026-12-01 08:10). A window's crop is cut
        # from a sharp picture.
        inset = 0.0 if upright else _SCREEN_INSET
        if _on_edge(pixels, quad[side], quad[(side + 1) % 4], scale):
            moves, inset = [reach, reach], 0.0  # the photo cut the picture there: no edge
        mids = [mid for mid, _, _ in halves]
        lines.append(
            [mid + (offsets[move] + inset) * normal for mid, move in zip(mids, moves, strict=True)]
        )
    return np.float32([_meet(lines[side - 1], lines[side]) for side in range(4)])


def _past_shadow(profile: np.ndarray, at: int) -> int:
    """The first line past a soft shadow that line `at` sits in, darkening inward on both sides
    of it (a window's edge is a step, not a ramp), to where it stops darkening and a strong step
    in colour (`_REFINE_STEP`, from that line to the next or, blurred, the one after) starts the
    window; `at` when there is no such ramp, or it darkens by less than `_SHADOW_RAMP` over the
    walk. A side found on a drop shadow's outer edge stays there otherwise, several pixels out,
    and the crop answers a neighbouring frame (docs/pictures.md, 2026-11-30 22:00 and 22:45)."""
    grey = profile.mean(axis=(1, 2))
    steps = np.abs(np.diff(profile, axis=0)).mean(axis=(1, 2))  # steps[i]: line i to i + 1
    # a ramp after a strong step is inside the picture (a dark gradient at the window's edge)
    ramp = at >= 3 and grey[at - 3] > grey[at - 2] > grey[at - 1] > grey[at]
    if not ramp or steps[:at].max() >= _REFINE_STEP:
        return at
    walk = at
    while walk + 1 < len(grey) and grey[walk + 1] < grey[walk]:
        walk += 1
    if walk + 2 >= len(grey) or grey[at] - grey[walk] < _SHADOW_RAMP:
        return at
    # the step into the window may be blurred over two lines (a shadow as dark as its edge)
    step = max(steps[walk], float(np.abs(profile[walk + 2] - profile[walk]).mean()))
    return walk + 1 if step >= _REFINE_STEP else at


def _past_bezel(profile: np.ndarray, at: int) -> int:
    """The first line past dark lines, flat along the side, that start at `at` (or the line
    after: `at` may sit on the blurred step into the bezel) and end in a step into the picture
    (a bezel the small copy found no line for); `at` when there are none. The step is taken from
    the bezel's colour to `_STEP_SPAN` lines on: the photo's blur and a side a little askew
    spread it over several lines, each under `_BEZEL_STEP` (docs/pictures.md, 2026-11-30 19:00).
    A line's flatness is its spread about its linear trend along the side: a lamp's glare
    brightens a bezel smoothly along it (docs/pictures.md, 2026-12-01 00:50)."""
    colours = profile.mean(axis=1)  # (offsets, 3)
    grey = profile.mean(axis=2)  # (offsets, samples along the side)
    slope = np.linspace(-1.0, 1.0, grey.shape[1], dtype=np.float32)
    trend = grey.mean(axis=1, keepdims=True) + np.outer(grey @ slope / (slope @ slope), slope)
    bezel = (colours.max(axis=1) < _DARK_BEZEL) & ((grey - trend).std(axis=1) < _FLAT_LINE)
    start = at + 1 if at + 1 < len(bezel) and not bezel[at] else at
    walk = start
    while walk < len(bezel) and bezel[walk]:
        walk += 1
    if walk - start < 2 or walk >= len(bezel):
        return at
    past = colours[min(walk + _STEP_SPAN - 1, len(colours) - 1)]
    sharp = np.abs(past - np.median(colours[start:walk], axis=0)).max() >= _BEZEL_STEP
    return walk if sharp else at


def _on_edge(pixels: np.ndarray, start: np.ndarray, end: np.ndarray, scale: float) -> bool:
    """Whether the side from `start` to `end` runs along one of the photo's edges, within a
    small-copy pixel (`scale` full-size ones)."""
    height, width = pixels.shape[:2]
    ends = np.float32([start, end])
    return bool(
        (ends[:, 0] <= scale).all() or (ends[:, 0] >= width - 1 - scale).all()
        or (ends[:, 1] <= scale).all() or (ends[:, 1] >= height - 1 - scale).all()
    )  # fmt: skip


def _meet(first: list[np.ndarray], second: list[np.ndarray]) -> np.ndarray:
    """Where the line through `first`'s two points meets the line through `second`'s."""
    (p, q), (r, s) = first, second
    d1, d2 = q - p, s - r
    det = d1[0] * d2[1] - d1[1] * d2[0]
    t = ((r - p)[0] * d2[1] - (r - p)[1] * d2[0]) / det
    return p + t * d1


def flatness(small: np.ndarray) -> np.ndarray:
    """Where the small copy is flat (True): gradient below `_FLAT_GRADIENT`. A bezel is flat even
    under glare (a smooth ramp); a room, or the frame's detail, is not."""
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gradient = np.hypot(
        cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=1), cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=1)
    )
    return gradient < _FLAT_GRADIENT


class Bezel(NamedTuple):
    """A bezel peeled off: its colour, and which sides (top, right, bottom, left) it ran along."""

    colour: np.ndarray
    sides: tuple[bool, ...]


def peeled(
    quad: np.ndarray,
    quads: np.ndarray,
    areas: np.ndarray,
    small: np.ndarray,
    flat: np.ndarray,
    bezel: Bezel | None = None,
) -> tuple[np.ndarray, Bezel | None]:
    """The smallest candidate nested in `quad`, its sides at most `_MAX_PEEL` of its size inside,
    with a bezel between: flat bands of one colour on at least two sides (a flat band on one side
    alone is as often the frame's own wall or sky), and that bezel; else `quad` and None. The
    picture is the bezel's inner edge. With `bezel`, one an earlier peel found, one band of its
    colour on a side it was not peeled from will do: there the picture's edge was too weak for
    the first peel's candidates (glare, dark content), but the bezel still runs along it
    (docs/pictures.md, 2026-11-30 17:00)."""
    area = quad_area(quad)
    reach = _MAX_PEEL * np.float32(quad_sides(quad))
    near = (areas < area) & (np.abs(quads - quad) <= reach).all(axis=(1, 2))
    for index in np.flatnonzero(near)[np.argsort(areas[near])]:  # smallest first
        other = quads[index]
        if cv2.intersectConvexConvex(quad, other)[0] < areas[index] * 0.99:  # not inside
            continue
        bands = [_band(small, flat, quad, other, side) for side in range(4)]
        if any(band is False for band in bands):
            continue
        sides = tuple(band is not True for band in bands)
        colours = [band for band in bands if band is not True]
        if bezel is not None:
            if any(new and old for new, old in zip(sides, bezel.sides, strict=True)):
                continue  # a side already peeled: a second band there is the picture's own
            colours.append(bezel.colour)
            sides = tuple(new or old for new, old in zip(sides, bezel.sides, strict=True))
        stacked = np.array(colours)
        if len(colours) >= 2 and np.ptp(stacked, axis=0).max() <= _BEZEL_TOLERANCE:
            return other, Bezel(np.median(stacked, axis=0), sides)
    return quad, None


def without_bezel(
    quad: np.ndarray,
    quads: np.ndarray,
    areas: np.ndarray,
    strong: np.ndarray,
    small: np.ndarray,
    flat: np.ndarray,
) -> tuple[np.ndarray, bool]:
    """`quad` with a bezel peeled off (`peeled`), and whether it had one. Nested candidates
    on four edges (`strong`) first: a weak-sided one is as often a line of the picture just
    inside its edge (docs/pictures.md, 15:10); once the bezel's colour is known, a side it still
    runs along is peeled too."""
    inside, bezel = peeled(quad, quads[strong], areas[strong], small, flat)
    if bezel is None:
        return peeled(quad, quads, areas, small, flat)[0], False
    return peeled(inside, quads, areas, small, flat, bezel)[0], True


def _band(
    small: np.ndarray, flat: np.ndarray, outer: np.ndarray, inner: np.ndarray, side: int
) -> np.ndarray | bool:
    """The median colour of the band between one side of `outer` and the same side of `inner`
    when it is flat along its middle line (where neither edge's blur reaches); True when it is
    under `_MIN_BAND` px wide (that side is not peeled); False when it is not flat."""
    nxt = (side + 1) % 4
    direction = outer[nxt] - outer[side]
    normal = np.float32([-direction[1], direction[0]]) / max(1e-6, np.linalg.norm(direction))
    gap = float(np.abs((inner[[side, nxt]] - outer[side]) @ normal).max())
    if gap < _MIN_BAND:
        return True
    start, end = (outer[side] + inner[side]) / 2, (outer[nxt] + inner[nxt]) / 2
    points = (start + ALONG * (end - start)).round().astype(int)
    x = np.clip(points[:, 0], 0, small.shape[1] - 1)
    y = np.clip(points[:, 1], 0, small.shape[0] - 1)
    if flat[y, x].mean() < _FLAT_SHARE:
        return False
    return np.median(small[y, x].astype(np.float32), axis=0)


def quad_sides(quad: np.ndarray) -> tuple[float, float]:
    """Mean width and height of an ordered quadrilateral."""
    top, bottom = np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3])
    left, right = np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1])
    return float(top + bottom) / 2, float(left + right) / 2


def quad_area(quad: np.ndarray) -> float:
    return float(cv2.contourArea(quad))
