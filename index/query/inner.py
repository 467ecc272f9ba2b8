"""The picture inside the picture: a screen photographed at an angle, a window over a picture.

A phone photo of a TV or a frame inside a reaction video shows the frame as the dominant inner
quadrilateral: a screen bounded by its bezel, a window by its border or shadow. `find_quads`
takes the long straight edges of a small copy (`lines`: Canny on each colour channel,
probabilistic Hough, each slanted line fitted to its edge pixels, OpenCV), makes every
quadrilateral of two near-horizontal and two near-vertical lines, keeps those whose four sides
lie on edges (a slanted one's three, and part of the fourth: glare on a screen), and ranks them
by area and edge support (the photo's own edges are sides too: a screen that fills the photo is
cut by them); a window's own border or drop shadow (`window`) puts it ahead of the larger
rectangles of the outer picture's lines around it; a shadowed window with one side on no
edge is found from its other three and the video's shape (`sideless`). A screen's outer edge
is its bezel's: a nested quadrilateral with a flat band of one colour between them on two or
more sides is the picture, so it replaces the outer one (`bezel.peeled`; one on four edges
before one with a weak side). Each side is then moved onto the picture's own edge at full size
(`bezel.refined`; a window, upright within a few pixels, as an upright rectangle). `inner_views`
warps the best two upright and trims what is left of a bezel or border. They are searched only
in the unsure second pass, so clean screenshots never pay for them.
Measured in `docs/pictures.md` (`bench/robustness.py --inner`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image

from index.query.bezel import ALONG, flatness, quad_area, quad_sides, refined, without_bezel
from index.query.lines import colour_edges, segment_support, straight_lines
from index.query.screenshot import aspect_prior, video_box
from index.query.sideless import sideless_windows
from index.query.window import framed, inside_border, past_outer_band, shadow_sides, shadowed
from model.fit import to_rgb

log = logging.getLogger(__name__)

_ANALYSIS_WIDTH = 320  # detection runs on a small copy; corners are scaled back
_MIN_AREA = 0.12  # of the picture: smaller quadrilaterals are details of the scene
_MAX_AREA = 0.90  # larger ones are the picture itself (or its bars, trimmed elsewhere)
INNER_VIEWS = ("inner", "rectified")  # the names of the views found here (`Match.view`)
_VIEWS = 2  # inner pictures searched per screenshot
_FRAME_POOL = 8  # best upright candidates checked for a window's border or shadow (`window`)
_POOL_OVERLAP = 0.9  # a window candidate overlapping a better one this much is a near copy
_DISTINCT = 0.7  # a second quadrilateral overlapping the first more than this is the same one
_SUPPORT_POWER = 4.0  # a quadrilateral's score: area x (weakest side's edge support) ** this
_ASPECT_RANGE = (1.0, 2.6)  # width / height of plausible video once upright
_MIN_ANGLE = 55.0  # degrees: a corner sharper than this is not a screen seen from the front half
_AXIS_TOLERANCE = 1.5  # px of the analysis copy: corners this close to a box make it "inner"
_WINDOW_TOLERANCE = 5.0  # px of the analysis copy: corners this close to a box may be a window
_MAX_SIDE = 640  # the view is made at most this wide (the embedder sees 224 px anyway)
_SIDE_SUPPORT = 0.9  # share of each side of the quadrilateral that must lie on an edge
_WEAK_SIDE = 0.6  # ... or of one side of a slanted one, the other three on `_SIDE_SUPPORT`
_CUT_REACH = np.arange(2.0, 11.0)[:, None]  # px next to the photo's edge a side meeting it is on


class Found(NamedTuple):
    """A picture found inside another: its name (`INNER_VIEWS`), upright view, and the view's
    corners in the outer picture (float32 (4, 2), as `find_quads`'), for `index.query.screenfit`."""

    name: str
    view: Image.Image
    corners: np.ndarray


def inner_views(image: Image.Image) -> list[Found]:
    """Up to `_VIEWS` pictures found inside `image`, best first; [] when none.

    The name is "inner" for an upright rectangle (a window: a plain crop) and "rectified" for a
    quadrilateral seen at an angle (a screen: warped upright). Best effort: any error means [].
    """
    try:
        rgb = to_rgb(image)
        return [_found_view(rgb, quad) for quad in find_quads(np.asarray(rgb))]
    except Exception:  # noqa: BLE001 - a heuristic must never cost the user an answer
        log.exception("inner picture detection failed")
        return []


def _found_view(rgb: Image.Image, quad: np.ndarray) -> Found:
    """The quadrilateral `quad` of an RGB picture upright, with bars left inside it (a bezel, a
    border) trimmed as in `index.query.screenshot`; its corners are those of what is kept."""
    name, view, matrix = _upright(rgb, quad)
    box = video_box(view)
    if box is None:
        return Found(name, view, quad)
    left, top, right, bottom = box
    kept = np.float32([[left, top], [right, top], [right, bottom], [left, bottom]])
    corners = cv2.perspectiveTransform(kept[None], np.linalg.inv(matrix))[0]
    return Found(name, view.crop(box), corners.astype(np.float32))


def find_quads(pixels: np.ndarray) -> list[np.ndarray]:
    """Corners (top-left, top-right, bottom-right, bottom-left; float32 (4, 2), full-size pixels)
    of the `_VIEWS` best distinct inner quadrilaterals of an RGB array, best first.

    Best: the largest, weighted by how much of its weakest side lies on an edge and by how near
    a window's shape is to a video's (`screenshot.aspect_prior`: over a busy picture, a larger
    rectangle of the outer picture's lines is rarely 16:9 or 4:3, the window is). A second one
    is kept because the outer picture has rectangles of its own (a blackboard, a building) that
    can outscore the window; searching both lets the embedding decide.
    """
    height, width = pixels.shape[:2]
    if width < 32 or height < 32:
        return []
    scale = min(1.0, _ANALYSIS_WIDTH / width)
    size = (round(width * scale), round(height * scale))
    small = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    edges = colour_edges(small)
    lines = straight_lines(edges)
    quads, areas, support = _quads(edges, lines)
    # the aspect prior for windows only: a screen at an angle, bezel and all, is not video-shaped
    window = _off_box(quads) <= _WINDOW_TOLERANCE
    prior = np.where(window, aspect_prior(_aspects(quads)), 1.0)
    score = areas * support**_SUPPORT_POWER * prior
    order = np.argsort(-score)
    refinements: dict[bytes, np.ndarray] = {}  # a window is refined once, checked and returned

    def refined_window(quad: np.ndarray) -> np.ndarray:
        if quad.tobytes() not in refinements:
            upright = refined(pixels, _boxed(quad) / scale, 1 / scale, upright=True)
            refinements[quad.tobytes()] = upright
        return refinements[quad.tobytes()]

    chosen: list[np.ndarray] = []

    def distinct(quad: np.ndarray) -> bool:
        return len(chosen) < _VIEWS and all(_overlap(quad, other) < _DISTINCT for other in chosen)

    flat = flatness(small)
    strong = support >= _SIDE_SUPPORT
    peels: dict[bytes, tuple[np.ndarray, bool]] = {}  # peeled once, checked and returned

    def peel(quad: np.ndarray) -> tuple[np.ndarray, bool]:
        if quad.tobytes() not in peels:
            peels[quad.tobytes()] = without_bezel(quad, quads, areas, strong, small, flat)
        return peels[quad.tobytes()]

    # a window with a border, then one with a drop shadow, outranks the larger rectangles of the
    # outer picture's lines around it, which have the outer picture along their sides
    # (`window.framed`, `window.shadowed`; docs/pictures.md). A border is the surer sign: a dark
    # one is darker near than far too. No shadow counts when the best candidate is a screen with
    # a bezel: a rectangle of the picture on it has the bezel outside, darker than the room. Only
    # a candidate that could still be chosen is checked (refined at full size, most of the cost):
    # one like a window chosen, or any once `_VIEWS` are, is passed over either way.
    ranked = order[window[order]]
    pool = ranked[:_FRAME_POOL]
    cues = [framed]
    if not len(order) or not peel(quads[order[0]])[1]:
        cues.append(partial(shadowed, scale=1 / scale))
    # a border and a shadow both is the surest sign of all, and is looked for further down the
    # ranking too, after a border in the pool: over a busy picture the near copies of the outer
    # picture's larger rectangles fill the pool, and one sign alone is common on them past it
    # (docs/pictures.md, 2026-12-01 05:50)
    passes = [(pool, cues[:1])]
    if len(cues) == 2:
        passes += [(_distinct_windows(quads, ranked[_FRAME_POOL:]), cues), (pool, cues[1:])]
    for candidates, signs in passes:
        for index in candidates:
            if distinct(quads[index]) and all(
                sign(pixels, refined_window(quads[index])) for sign in signs
            ):
                chosen.append(quads[index])
    if not chosen and len(cues) == 2:  # no sign found: a shadowed window with a side on no edge
        chosen += _sideless(pixels, edges, lines, refined_window, scale)
    for index in order:  # then the rest, best first (a window chosen is not distinct from itself)
        if len(chosen) == _VIEWS:
            break
        if distinct(quads[index]):
            chosen.append(quads[index])
    inside_bezels: list[np.ndarray] = []
    for quad in chosen:
        inside = peel(quad)[0]
        if all(_overlap(inside, other) < _DISTINCT for other in inside_bezels):
            inside_bezels.append(inside)
    # a window is an upright rectangle, and is refined as one (a crop, not a warp)
    windows = _off_box(np.float32(inside_bezels).reshape(-1, 4, 2)) <= _WINDOW_TOLERANCE
    return [
        inside_border(pixels, past_outer_band(pixels, refined_window(quad), 1 / scale), 1 / scale)
        if box
        else refined(pixels, quad / scale, 1 / scale)
        for quad, box in zip(inside_bezels, windows, strict=True)
    ]


def _sideless(
    pixels: np.ndarray,
    edges: np.ndarray,
    lines: tuple[np.ndarray, np.ndarray],
    refine: Callable[[np.ndarray], np.ndarray],
    scale: float,
) -> list[np.ndarray]:
    """The best of `sideless.sideless_windows` (by area and the weakest side's support, of the
    `_FRAME_POOL` best distinct) that casts a shadow on two adjacent sides away from the one
    placed (`refine`: a small-copy rectangle at full size): [] or [its corners]."""
    height, width = edges.shape
    near = _near(edges)
    quads, support, placed = sideless_windows(near, *lines, _SIDE_SUPPORT)
    kept = _plausible(quads, width, height)
    quads, support, placed = quads[kept], support[kept], placed[kept]
    ranked = np.argsort(-_areas(quads) * support**_SUPPORT_POWER)
    for index in _distinct_windows(quads, ranked):
        casts = shadow_sides(pixels, refine(quads[index]), 1 / scale)
        pairs = casts & np.roll(casts, -1)  # pair i: sides i and i + 1
        away = np.arange(4) != placed[index]
        if (pairs & away & np.roll(away, -1)).any():
            return [quads[index]]
    return []


def _distinct_windows(quads: np.ndarray, ranked: np.ndarray) -> np.ndarray:
    """The `_FRAME_POOL` best of the `ranked` window candidates (indices, best first) that are
    distinct rectangles: one overlapping a better one by `_POOL_OVERLAP` (the same window, a
    side a line or two off) is passed over (OpenCV's non-maximum suppression on their boxes)."""
    if len(ranked) == 0:
        return ranked
    low, high = quads[ranked].min(axis=1), quads[ranked].max(axis=1)
    boxes = np.concatenate([low, high - low], axis=1).tolist()
    scores = np.linspace(1.0, 0.5, len(ranked)).tolist()  # the order is the ranking
    kept = np.sort(np.asarray(cv2.dnn.NMSBoxes(boxes, scores, 0.0, _POOL_OVERLAP), np.intp))
    return ranked[kept.ravel()[:_FRAME_POOL]]


def _boxed(quad: np.ndarray) -> np.ndarray:
    """The upright rectangle through the middle of each side of a near-upright quadrilateral."""
    left, right = quad[[0, 3], 0].mean(), quad[[1, 2], 0].mean()
    top, bottom = quad[[0, 1], 1].mean(), quad[[2, 3], 1].mean()
    return np.float32([[left, top], [right, top], [right, bottom], [left, bottom]])


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two convex quadrilaterals."""
    inter, _ = cv2.intersectConvexConvex(a, b)
    return inter / (quad_area(a) + quad_area(b) - inter)


def _quads(
    edges: np.ndarray, lines: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plausible quadrilaterals bounded by two of the near-horizontal and two of the
    near-vertical `lines` (`straight_lines` of `edges`), each side mostly on an edge, and their
    areas; all combinations judged at once."""
    height, width = edges.shape
    across, down = lines
    if len(across) < 2 or len(down) < 2:
        return np.zeros((0, 4, 2), np.float32), np.zeros(0), np.zeros(0)
    # the photo's own edges: a screen that fills the photo is cut by them (docs/pictures.md,
    # 2026-12-01 03:00)
    across = np.concatenate([[[0.0, np.pi / 2]], across, [[height - 1.0, np.pi / 2]]])
    down = np.concatenate([[[0.0, 0.0]], down, [[width - 1.0, 0.0]]])
    # corners[a, d]: where across line a meets down line d
    ca, sa = np.cos(across[:, 1])[:, None], np.sin(across[:, 1])[:, None]
    cd, sd = np.cos(down[:, 1])[None], np.sin(down[:, 1])[None]
    det = ca * sd - sa * cd
    x = (across[:, :1] * sd - sa * down[None, :, 0]) / det
    y = (ca * down[None, :, 0] - across[:, :1] * cd) / det
    corners = np.stack([x, y], axis=-1)  # (A, D, 2)
    near = _near(edges)
    a1, a2 = np.triu_indices(len(across), k=1)
    d1, d2 = np.triu_indices(len(down), k=1)
    # along[a, p]: support of across line a between the down lines of pair p; downs[d, q] of
    # down line d between the across lines of pair q
    along = segment_support(near, corners[:, d1], corners[:, d2], ALONG)
    downs = segment_support(near, corners[a1].transpose(1, 0, 2),
                             corners[a2].transpose(1, 0, 2), ALONG)  # fmt: skip
    # a side on the photo's edge counts as on an edge when the two sides meeting it run on an
    # edge right up to it (else they went on past a bezel and the room to reach it), but only
    # just: a picture's own side near the photo's edge, when there is one, ranks ahead
    cut_across, cut_down = (np.isin(np.arange(len(lines)), (0, len(lines) - 1)) for lines in
                            (across, down))  # fmt: skip
    along[cut_across], downs[cut_down] = _SIDE_SUPPORT, _SIDE_SUPPORT
    q, p = np.arange(len(a1))[:, None], np.arange(len(d1))[None]  # (pairs across, pairs down)
    a1, a2, d1, d2 = a1[:, None], a2[:, None], d1[None], d2[None]
    sides = np.sort([along[a1, p], along[a2, p], downs[d1, q], downs[d2, q]], axis=0)
    support = sides[0]  # the weakest side's
    quads = np.stack(
        [corners[a1, d1], corners[a1, d2], corners[a2, d2], corners[a2, d1]], axis=-2
    )  # (pairs across, pairs down, 4, 2)
    cut = np.stack(np.broadcast_arrays(cut_across[a1], cut_down[d2], cut_across[a2], cut_down[d1]))
    cuts = cut.sum(axis=0)
    good = support >= _SIDE_SUPPORT
    edged = cuts == 0
    # glare or dark content leaves part of one side of a screen without an edge: three sides on
    # an edge and the fourth on `_WEAK_SIDE` of it will do when slanted (a window's border runs
    # all round it, and an upright rectangle of the outer picture's lines is not a screen)
    weak = ~good & edged & (sides[1] >= _SIDE_SUPPORT) & (support >= _WEAK_SIDE)
    weak[weak] = _off_box(quads[weak].astype(np.float32)) > _WINDOW_TOLERANCE
    # one side at most on the photo's edge, slanted (an upright window never touches the outer
    # picture's edge), the sides meeting it on an edge up to it
    cropped = good & (cuts == 1)
    good &= edged
    good[cropped] = _reaches_cut(near, quads[cropped].astype(np.float32), cut[:, cropped].argmax(0))
    good |= weak
    picked, support = quads[good].astype(np.float32), support[good]
    kept = _plausible(picked, width, height)
    return picked[kept], _areas(picked[kept]), support[kept]


def _near(edges: np.ndarray) -> np.ndarray:
    """Where a side counts as on an edge: within a pixel of one (a side's line is fitted)."""
    return cv2.dilate(edges, np.ones((3, 3), np.uint8)) > 0


def _reaches_cut(near: np.ndarray, quads: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """Which `(n, 4, 2)` quadrilaterals, with side `cut` (n,) on the photo's edge, are slanted and
    have the two sides meeting it on an edge for the `_CUT_REACH` points next to it."""
    rows = np.arange(len(quads))
    reach = np.ones(len(quads))
    for corner, toward in ((cut, cut - 1), ((cut + 1) % 4, (cut + 2) % 4)):
        start, end = quads[rows, corner], quads[rows, toward % 4]
        length = np.linalg.norm(end - start, axis=-1)[:, None, None]
        u = _CUT_REACH / np.maximum(length, 1e-6)
        reach = np.minimum(reach, segment_support(near, start, end, u))
    return (reach >= _SIDE_SUPPORT) & (_off_box(quads) > _WINDOW_TOLERANCE)


def _plausible(quads: np.ndarray, width: int, height: int) -> np.ndarray:
    """Which quadrilaterals `(n, 4, 2)` are inside the picture, neither a detail nor all of it,
    convex, video-like upright, with no sharp corner; judged all at once."""
    x, y = quads[..., 0], quads[..., 1]
    inside = (quads >= -2).all(axis=(1, 2)) & (x <= width + 2).all(axis=1)
    inside &= (y <= height + 2).all(axis=1)
    share = _areas(quads) / (width * height)
    edges = np.roll(quads, -1, axis=1) - quads  # corner i to corner i + 1
    turns = edges[:, :, 0] * np.roll(edges, -1, axis=1)[:, :, 1]
    turns -= edges[:, :, 1] * np.roll(edges, -1, axis=1)[:, :, 0]
    convex = (turns > 0).all(axis=1) | (turns < 0).all(axis=1)
    lengths = np.linalg.norm(edges, axis=-1)  # top, right, bottom, left
    aspect = _aspects(quads)
    # the angle at corner i + 1 is between -edges[i] and edges[i + 1]
    cosine = -(edges * np.roll(edges, -1, axis=1)).sum(axis=-1)
    cosine /= np.maximum(lengths * np.roll(lengths, -1, axis=1), 1e-6)
    sharpest = np.degrees(np.arccos(np.clip(cosine, -1, 1))).min(axis=1)
    return (
        inside
        & (_MIN_AREA <= share)
        & (share <= _MAX_AREA)
        & convex
        & (_ASPECT_RANGE[0] <= aspect)
        & (aspect <= _ASPECT_RANGE[1])
        & (sharpest >= _MIN_ANGLE)
    )


def _off_box(quads: np.ndarray) -> np.ndarray:
    """How far (px, the largest coordinate difference) the corners of `(n, 4, 2)` quadrilaterals
    lie from those of their bounding boxes: 0 for an upright rectangle."""
    low, high = quads.min(axis=1), quads.max(axis=1)
    corner = np.stack([high[:, 0], low[:, 1]], axis=-1)  # top-right
    other = np.stack([low[:, 0], high[:, 1]], axis=-1)  # bottom-left
    box = np.stack([low, corner, high, other], axis=1)
    return np.abs(quads - box).max(axis=(1, 2))


def _aspects(quads: np.ndarray) -> np.ndarray:
    """Upright width / height of `(n, 4, 2)` quadrilaterals: mean of top and bottom over mean of
    the sides."""
    lengths = np.linalg.norm(np.roll(quads, -1, axis=1) - quads, axis=-1)  # top, right, ...
    return (lengths[:, 0] + lengths[:, 2]) / np.maximum(lengths[:, 1] + lengths[:, 3], 1e-6)


def _areas(quads: np.ndarray) -> np.ndarray:
    """Areas of `(n, 4, 2)` quadrilaterals (the shoelace formula)."""
    x, y = quads[..., 0], quads[..., 1]
    return np.abs((x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y).sum(axis=1)) / 2


def _upright(image: Image.Image, quad: np.ndarray) -> tuple[str, Image.Image, np.ndarray]:
    """The quadrilateral's content as an upright rectangle (a crop, or a perspective warp), and
    the 3x3 matrix from the picture's pixels to the view's."""
    tolerance = _AXIS_TOLERANCE * max(1.0, image.width / _ANALYSIS_WIDTH)
    if _off_box(quad[None])[0] <= tolerance:
        crop = tuple(int(round(v)) for v in (*quad.min(axis=0), *quad.max(axis=0)))
        shift = np.array([[1, 0, -crop[0]], [0, 1, -crop[1]], [0, 0, 1]], np.float64)
        return "inner", image.crop(crop), shift
    width, height = quad_sides(quad)
    shrink = min(1.0, _MAX_SIDE / width)
    size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
    target = np.float32([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]])
    matrix = cv2.getPerspectiveTransform(quad, target)
    warped = cv2.warpPerspective(np.asarray(image), matrix, size, flags=cv2.INTER_AREA)
    return "rectified", Image.fromarray(warped), matrix
