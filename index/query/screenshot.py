"""Turn a user's screenshot into the views worth searching: the video area, trimmed, and mirrored.

Screenshots rarely show just the frame: letterbox/pillarbox bars, a player window with its title
bar and controls, or a flipped re-upload. `query_views` returns, best guess first:

1. the player-window crop, when a large rectangle bounded by long straight edges is found;
2. the frame with flat borders (uniform colour of any kind, with JPEG noise) trimmed;
3. the original, when 1 or 2 changed it (a wrong crop then costs nothing);
4. the mirror of view 1 (query-time flip handling), when `mirror` is set.

Every step is best effort: on any doubt, or any error, the original is returned.
"""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image, ImageOps

from index.query.bars import MIN_KEPT, near, share_near, trim_box
from model.fit import to_rgb

log = logging.getLogger(__name__)

_ANALYSIS_WIDTH = 320  # detection runs on a small copy; boxes are scaled back to full size
_EDGE_STEP = 14.0  # grey-level jump that counts as an edge pixel
_LINE_SHARE = 0.30  # an edge line must run along at least this share of the image
_SIDE_COVERAGE = 0.65  # share of each rectangle side that must lie on an edge
_MIN_WINDOW_AREA = 0.35  # of the screenshot
_MAX_OVERHANG = 0.5  # share of a side's line, beyond the box, that may still be edge
_UI_LINE_SHARE = 0.8  # share of a line just outside the video in one UI colour
_MAX_WINDOW_AREA = 0.92
_ASPECT_RANGE = (1.0, 2.6)  # width / height of plausible video: 4:3 up to 21:9, with slack
_VIDEO_ASPECTS = (4 / 3, 16 / 9, 2.39)
_ASPECT_SHARPNESS = 8.0  # how fast the prior falls off a standard aspect, per unit of log-ratio
_MIN_SIDE = 16  # pixels: smaller screenshots are searched as they are
_GUTTER_SHARE = 0.97  # a column this uniform, top to bottom, is a gap between panels
_OUTSIDE_MARGIN = 2  # pixels past a box's edge that still belong to its border line
_MAX_EDGE_LINES = 24  # strongest edge lines per direction tried as window sides
# Heights video is made and shown in, 240p to 4K (270: a quarter of 1080; 576: PAL; 768, 900:
# laptop screens): a player's or a screen grab's frame is one of them at a video aspect; a meme
# trim or a hand resize is not.
_VIDEO_HEIGHTS = frozenset((240, 270, 360, 480, 540, 576, 720, 768, 900, 1080, 1440, 2160))


def query_views(image: Image.Image, mirror: bool = True, crop: bool = True) -> list[Image.Image]:
    """Views of `image` to search, in priority order; never raises for a valid PIL image.

    `crop=False` skips bar trimming and player-window detection (for side-by-side benchmarks).
    """
    views, _ = search_views(image, crop)
    return views + [ImageOps.mirror(views[0])] if mirror else views


def search_views(image: Image.Image, crop: bool = True) -> tuple[list[Image.Image], bool]:
    """`query_views` without the mirror, and whether the first view's edges are exact (the whole
    screenshot or the frame inside bars, not a player window): the spatial re-rank needs them."""
    original = to_rgb(image)
    try:
        box, window = _video_box(original) if crop else (None, False)
    except Exception:  # noqa: BLE001 - a heuristic must never cost the user an answer
        log.exception("screenshot analysis failed; searching the original only")
        box, window = None, False
    if box is None:
        return [original], True
    return [original.crop(box), original], not window


def video_sized(size: tuple[int, int]) -> bool:
    """Whether a picture of `size` (width, height) has a video frame's size: a standard height
    at a video aspect, to a pixel. A picture that is not was trimmed or resized by hand: evidence
    of editing that a clean screenshot lacks (docs/pictures.md, 2026-12-01 00:40)."""
    width, height = size
    return height in _VIDEO_HEIGHTS and any(
        abs(width - height * aspect) <= 1 for aspect in _VIDEO_ASPECTS
    )


def video_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the video in `image` at full size; None: all of it.

    Detection runs on a copy about `_ANALYSIS_WIDTH` wide, so a box is accurate to about one
    pixel of that copy (width / 320 here); the caller crops the full-size image.
    """
    return _video_box(to_rgb(image))[0]


def _video_box(image: Image.Image) -> tuple[tuple[int, int, int, int] | None, bool]:
    """`video_box` of an RGB image, and whether the box is a player window's."""
    width, height = image.size
    if width < _MIN_SIDE or height < _MIN_SIDE:
        return None, False
    small = _analysis_copy(image)
    scale = width / small.width
    pixels = np.asarray(small)
    # Centred bars explain a screenshot best; else a player window; else a one-sided dark bar.
    trimmed, centred = trim_box(pixels)
    window = None if trimmed is not None and centred else find_player_window(pixels)
    box = window or trimmed
    return (None if box is None else _scale_box(box, scale, image.size)), window is not None


def _analysis_copy(original: Image.Image) -> Image.Image:
    """A copy about `_ANALYSIS_WIDTH` wide: the thresholds below are tuned in its pixels.

    `reduce` (a box filter by a whole factor) is several times cheaper than a filtered resize of
    the full image, and it keeps bar and window edges sharp; only when no whole factor lands
    within 10% of the target width is the reduced copy resized, now cheaply.
    """
    width, height = original.size
    factor = max(1, round(width / _ANALYSIS_WIDTH))
    if factor > 1 and width // factor < 0.9 * _ANALYSIS_WIDTH:
        factor -= 1
    small = original.reduce(factor) if factor > 1 else original
    if small.width > 1.1 * _ANALYSIS_WIDTH:
        size = (_ANALYSIS_WIDTH, max(1, round(height * _ANALYSIS_WIDTH / width)))
        small = small.resize(size, Image.Resampling.BILINEAR)
    return small


def find_player_window(pixels: np.ndarray) -> tuple[int, int, int, int] | None:
    """The largest plausible video rectangle bounded by long straight edges, or None.

    Rows and columns holding long runs of strong grey-level steps are candidate sides; every
    combination is scored with prefix sums, and a rectangle counts only when each of its four
    sides lies mostly on an edge, it is large, and its aspect ratio is a video's.
    """
    # 3x the grey level, exact in integers (adding channel planes beats a reduction over 3)
    grey3 = pixels[..., 0].astype(np.int16) + pixels[..., 1] + pixels[..., 2]
    height, width = grey3.shape
    step = 3 * _EDGE_STEP
    row_edges = np.zeros((height, width), dtype=bool)  # edge between row y-1 and row y
    row_edges[1:] = np.abs(np.diff(grey3, axis=0)) >= step
    col_edges = np.zeros((height, width), dtype=bool)
    col_edges[:, 1:] = np.abs(np.diff(grey3, axis=1)) >= step
    rows = edge_lines(row_edges, width)
    cols = edge_lines(col_edges.T, height)
    if len(rows) < 2 or len(cols) < 2:
        return None
    # Prefix sums of edge pixels along the candidate lines only (a box's sides lie on them).
    row_sums = np.zeros((len(rows), width + 1), dtype=np.int32)
    np.cumsum(row_edges[rows], axis=1, out=row_sums[:, 1:])
    col_sums = np.zeros((len(cols), height + 1), dtype=np.int32)
    np.cumsum(col_edges.T[cols], axis=1, out=col_sums[:, 1:])
    for box in _ranked_boxes(rows, cols, row_sums, col_sums)[:50]:
        if _ui_sides(pixels, box) >= 3 and not _has_gutter(pixels, box):
            return box
    return None


def _ranked_boxes(
    rows: list[int], cols: list[int], row_sums: np.ndarray, col_sums: np.ndarray
) -> list[tuple[int, int, int, int]]:
    """Every (top, bottom) x (left, right) pair of edge lines that could be the video, best first.

    `row_sums[i]` / `col_sums[j]` are the prefix sums of edge pixels along `rows[i]` /
    `cols[j]`. Pairs are laid on a grid (top/bottom pairs down, left/right pairs across); the
    cheap size and shape tests go first, and edge coverage is scored only for the pairs that
    pass them. Ties keep the row-major order of the nested loops this replaces.
    """
    width, height = row_sums.shape[1] - 1, col_sums.shape[1] - 1
    top_at, bottom_at = np.triu_indices(len(rows), k=1)
    tall = np.asarray(rows)[bottom_at] - np.asarray(rows)[top_at] >= height * MIN_KEPT
    top_at, bottom_at = top_at[tall], bottom_at[tall]
    left_at, right_at = np.triu_indices(len(cols), k=1)
    tops, bottoms = np.asarray(rows)[top_at, None], np.asarray(rows)[bottom_at, None]
    lefts, rights = np.asarray(cols)[None, left_at], np.asarray(cols)[None, right_at]
    box_width, box_height = rights - lefts, bottoms - tops
    area = box_width * box_height / (width * height)
    aspect = box_width / box_height
    shaped = (
        (_MIN_WINDOW_AREA <= area)
        & (area <= _MAX_WINDOW_AREA)
        & (_ASPECT_RANGE[0] <= aspect)
        & (aspect <= _ASPECT_RANGE[1])
    )
    pair_rows, pair_cols = np.nonzero(shaped)  # row-major: the old loops' order
    top_i, bottom_i = top_at[pair_rows], bottom_at[pair_rows]
    left_i, right_i = left_at[pair_cols], right_at[pair_cols]
    top, bottom = tops[pair_rows, 0], bottoms[pair_rows, 0]
    left, right = lefts[0, pair_cols], rights[0, pair_cols]
    wide, high = right - left, bottom - top
    coverage = np.minimum.reduce(
        [
            (row_sums[top_i, right] - row_sums[top_i, left]) / wide,
            (row_sums[bottom_i, right] - row_sums[bottom_i, left]) / wide,
            (col_sums[left_i, bottom] - col_sums[left_i, top]) / high,
            (col_sums[right_i, bottom] - col_sums[right_i, top]) / high,
        ]
    )
    # A side of the video ends at the video's corners; a line running on far past them (browser
    # chrome, a column of thumbnails) is the page's, not the video's: edge pixels more than
    # `_OUTSIDE_MARGIN` px beyond the box along each side's line, over the line's length outside.
    margin = _OUTSIDE_MARGIN
    before_left, after_right = np.maximum(0, left - margin), np.minimum(width, right + margin)
    before_top, after_bottom = np.maximum(0, top - margin), np.minimum(height, bottom + margin)
    outside_width = np.maximum(1, width - wide - 2 * margin)
    outside_height = np.maximum(1, height - high - 2 * margin)
    overhang = np.maximum.reduce(
        [
            _outside(row_sums, top_i, before_left, after_right) / outside_width,
            _outside(row_sums, bottom_i, before_left, after_right) / outside_width,
            _outside(col_sums, left_i, before_top, after_bottom) / outside_height,
            _outside(col_sums, right_i, before_top, after_bottom) / outside_height,
        ]
    )
    plausible = (coverage >= _SIDE_COVERAGE) & (overhang <= _MAX_OVERHANG)
    score = (area[shaped] * coverage)[plausible] * aspect_prior(aspect[shaped][plausible])
    order = np.argsort(-score, kind="stable")
    found = np.flatnonzero(plausible)[order]
    return [(int(left[i]), int(top[i]), int(right[i]), int(bottom[i])) for i in found]


def _outside(
    sums: np.ndarray, line: np.ndarray, before: np.ndarray, after: np.ndarray
) -> np.ndarray:
    """Edge pixels along each line (`line` indexes the rows of prefix `sums`) before `before`
    plus from `after` on."""
    return sums[line, before] + sums[line, -1] - sums[line, after]


def _has_gutter(pixels: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """True when a plain full-height column runs inside `box`: the gap between two page panels.

    Frames have plain rows (a clear sky) but almost never a plain column from top to bottom, so
    one means the box spans the video and a neighbouring panel.
    """
    left, top, right, bottom = box
    inner = pixels[top:bottom, left + 3 : right - 3]
    if inner.shape[1] == 0:
        return False
    colours = np.median(inner, axis=0)
    return bool((near(inner, colours).mean(axis=0) >= _GUTTER_SHARE).any())


def aspect_prior(aspect: np.ndarray) -> np.ndarray:
    """Favour the shapes video comes in, so a box that swallows the control bar loses (and, in
    `index.query.inner`, a rectangle of the outer picture's own lines loses to the window)."""
    distance = np.min([np.abs(np.log(aspect / standard)) for standard in _VIDEO_ASPECTS], axis=0)
    return np.exp(-_ASPECT_SHARPNESS * distance)


def _ui_sides(pixels: np.ndarray, box: tuple[int, int, int, int]) -> int:
    """How many sides of `box` have a plain line of UI just outside (or the image edge)."""
    left, top, right, bottom = box
    height, width = pixels.shape[:2]
    outside = [
        pixels[top - 2, left:right] if top >= 2 else None,
        pixels[bottom + 1, left:right] if bottom + 1 < height else None,
        pixels[top:bottom, left - 2] if left >= 2 else None,
        pixels[top:bottom, right + 1] if right + 1 < width else None,
    ]
    count = 0
    for line in outside:
        if line is None:
            count += 1
            continue
        colour = np.median(line, axis=0)
        if share_near(line[None], colour)[0] >= _UI_LINE_SHARE:
            count += 1
    return count


def edge_lines(edges: np.ndarray, length: int, limit: int = _MAX_EDGE_LINES) -> list[int]:
    """Lines whose edge pixels cover at least `_LINE_SHARE` of the length, strongest first.

    Only the `limit` strongest survive, so the rectangle search stays small; neighbouring indices
    (an edge drawn over two lines by resampling) keep only the stronger one.
    """
    strength = np.count_nonzero(edges, axis=1)
    order = np.argsort(-strength)
    strong = order[: np.count_nonzero(strength >= _LINE_SHARE * length)].tolist()
    taken = bytearray(len(strength) + 1)  # 1: a chosen line or its neighbour
    taken[0] = 1  # the first line has no edge above (or left of) it
    chosen: list[int] = []
    for index in strong:
        if len(chosen) >= limit:
            break
        if taken[index]:
            continue
        chosen.append(index)
        taken[index - 1] = taken[index] = taken[index + 1] = 1
    return sorted(chosen)


def _scale_box(
    box: tuple[int, int, int, int], scale: float, size: tuple[int, int]
) -> tuple[int, int, int, int]:
    left, top, right, bottom = box
    width, height = size
    return (
        max(0, min(width - 1, round(left * scale))),
        max(0, min(height - 1, round(top * scale))),
        max(1, min(width, round(right * scale))),
        max(1, min(height, round(bottom * scale))),
    )
