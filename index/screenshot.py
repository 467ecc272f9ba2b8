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

log = logging.getLogger(__name__)

_ANALYSIS_WIDTH = 320  # detection runs on a small copy; boxes are scaled back to full size
_FLAT_TOLERANCE = 16.0  # max channel difference (0..255) still "the same colour" under JPEG noise
_FLAT_SHARE = 0.95  # share of a line's pixels in the border colour for the line to be border
_DARK_BAR = 40.0  # a one-sided bar must be this dark (every channel) to be trimmed
_BAR_DRIFT = 5.0  # max change of a bar line's median colour from the first line's
_MAX_TRIM = 0.45  # never trim more than this share of a side's length from one edge
_EDGE_STEP = 14.0  # grey-level jump that counts as an edge pixel
_LINE_SHARE = 0.30  # an edge line must run along at least this share of the image
_SIDE_COVERAGE = 0.65  # share of each rectangle side that must lie on an edge
_MIN_WINDOW_AREA = 0.35  # of the screenshot
_MAX_OVERHANG = 0.5  # share of a side's line, beyond the box, that may still be edge
_UI_LINE_SHARE = 0.8  # share of a line just outside the video in one UI colour
_MAX_WINDOW_AREA = 0.92
_ASPECT_RANGE = (1.0, 2.6)  # width / height of plausible video: 4:3 up to 21:9, with slack
_VIDEO_ASPECTS = (4 / 3, 16 / 9, 2.39)


def query_views(image: Image.Image, mirror: bool = True, crop: bool = True) -> list[Image.Image]:
    """Views of `image` to search, in priority order; never raises for a valid PIL image.

    `crop=False` skips bar trimming and player-window detection (for side-by-side benchmarks).
    """
    original = _rgb(image)
    try:
        views = _views(original) if crop else [original]
    except Exception:  # noqa: BLE001 - a heuristic must never cost the user an answer
        log.exception("screenshot analysis failed; searching the original only")
        views = [original]
    if mirror:
        views.append(ImageOps.mirror(views[0]))
    return views


def _views(original: Image.Image) -> list[Image.Image]:
    width, height = original.size
    if width < 16 or height < 16:
        return [original]
    small = _analysis_copy(original)
    scale = width / small.width
    pixels = np.asarray(small)
    # Centred bars explain a screenshot best; else a player window; else a one-sided dark bar.
    trimmed, centred = trim_box(pixels)
    if trimmed is not None and centred:
        return [original.crop(_scale_box(trimmed, scale, original.size)), original]
    window = find_player_window(pixels)
    if window is not None:
        return [original.crop(_scale_box(window, scale, original.size)), original]
    if trimmed is not None:
        return [original.crop(_scale_box(trimmed, scale, original.size)), original]
    return [original]


def _analysis_copy(original: Image.Image) -> Image.Image:
    """A copy about `_ANALYSIS_WIDTH` wide: the thresholds below are tuned in its pixels.

    `reduce` (a box filter by a whole factor) is several times cheaper than a filtered resize of
    the full image; only what it leaves above ~1.25x the target width is resized, now cheaply.
    """
    width, height = original.size
    small = original
    factor = width // _ANALYSIS_WIDTH
    if factor >= 2:
        small = original.reduce(factor)
    if small.width > _ANALYSIS_WIDTH * 1.25:
        size = (_ANALYSIS_WIDTH, max(1, round(height * _ANALYSIS_WIDTH / width)))
        small = small.resize(size, Image.Resampling.BILINEAR)
    return small


def trim_box(pixels: np.ndarray) -> tuple[tuple[int, int, int, int] | None, bool]:
    """(left, top, right, bottom) inside bars (None: nothing to trim), and whether bars are centred.

    Flat strips are common inside anime frames too (a ceiling, a clear sky), so a strip counts as
    a bar only when the opposite side has a matching one (letterbox, pillarbox: centred) or when
    it is near black (a one-sided crop of a letterboxed frame).
    """
    height, width = pixels.shape[:2]
    columns = pixels.transpose(1, 0, 2)
    top, bottom, rows_centred = _bar_pair(pixels, pixels[::-1])
    left, right, columns_centred = _bar_pair(columns, columns[::-1])
    if top + bottom + left + right == 0:
        return None, False
    box = (left, top, width - right, height - bottom)
    if box[2] - box[0] < width * 0.3 or box[3] - box[1] < height * 0.3:
        return None, False  # nearly everything looks flat: a blank image, not a bordered one
    return box, rows_centred or columns_centred


def _bar_pair(lines: np.ndarray, reversed_lines: np.ndarray) -> tuple[int, int, bool]:
    first, second = _flat_run(lines), _flat_run(reversed_lines)
    colours = np.median(lines[0], axis=0), np.median(reversed_lines[0], axis=0)
    if first and second:
        similar_size = abs(first - second) <= max(3, 0.25 * max(first, second))
        similar_colour = np.abs(colours[0] - colours[1]).max() <= _FLAT_TOLERANCE
        if similar_size and similar_colour:
            return first, second, True
    dark = [bool(colour.max() <= _DARK_BAR) for colour in colours]
    return (first if dark[0] else 0), (second if dark[1] else 0), False


def _flat_run(pixels: np.ndarray) -> int:
    """How many lines from the first one (axis 0) are bar: flat, in the first line's colour.

    A bar is one colour line after line; a sky gradient drifts, so each line's median colour must
    stay within `_BAR_DRIFT` of the first line's, and its pixels within `_FLAT_TOLERANCE` of it.
    Most screenshots have no bar, so the first line is checked alone first, and the costly
    medians are taken only of lines whose pixels are already near the colour.
    """
    colour = np.median(pixels[0], axis=0)
    if _share_near(pixels[:1], colour)[0] < _FLAT_SHARE:
        return 0
    limit = int(pixels.shape[0] * _MAX_TRIM)
    lines = pixels[: limit + 1]
    flat = _share_near(lines, colour) >= _FLAT_SHARE
    near = np.flatnonzero(flat)
    drift = np.abs(np.median(lines[near], axis=1) - colour).max(axis=-1)
    flat[near] = drift <= _BAR_DRIFT
    # A subtitle in a black bar breaks a few lines; keep trimming while the bar resumes soon after.
    run = 0
    index = 0
    max_gap = max(3, pixels.shape[0] * 0.08)
    while index <= limit:
        if flat[index]:
            run = index + 1
            index += 1
            continue
        gap_end = index
        while gap_end <= limit and not flat[gap_end]:
            gap_end += 1
        if gap_end > limit or gap_end - index > max_gap or not flat[gap_end : gap_end + 2].all():
            break
        index = gap_end
    run = min(run, limit)
    return run if run >= max(2, pixels.shape[0] * 0.01) else 0


def _share_near(lines: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Share of each line's uint8 pixels within `_FLAT_TOLERANCE` of `colour` in every channel.

    Integer pixels are near a (possibly half-integer) colour exactly when they lie in the whole
    numbers [ceil(c - t), floor(c + t)], so the test stays in uint8 with no float copy.
    """
    low = np.clip(np.ceil(colour - _FLAT_TOLERANCE), 0, 255).astype(np.uint8)
    high = np.clip(np.floor(colour + _FLAT_TOLERANCE), 0, 255).astype(np.uint8)
    near = ((lines >= low) & (lines <= high)).all(axis=-1)
    return near.mean(axis=-1)


def find_player_window(pixels: np.ndarray) -> tuple[int, int, int, int] | None:
    """The largest plausible video rectangle bounded by long straight edges, or None.

    Rows and columns holding long runs of strong grey-level steps are candidate sides; every
    combination is scored with prefix sums, and a rectangle counts only when each of its four
    sides lies mostly on an edge, it is large, and its aspect ratio is a video's.
    """
    grey3 = pixels.sum(axis=-1, dtype=np.int16)  # 3x the grey level, exact in integers
    height, width = grey3.shape
    step = 3 * _EDGE_STEP
    row_edges = np.zeros((height, width), dtype=bool)  # edge between row y-1 and row y
    row_edges[1:] = np.abs(np.diff(grey3, axis=0)) >= step
    col_edges = np.zeros((height, width), dtype=bool)
    col_edges[:, 1:] = np.abs(np.diff(grey3, axis=1)) >= step
    rows = _edge_lines(row_edges, width)
    cols = _edge_lines(col_edges.T, height)
    if len(rows) < 2 or len(cols) < 2:
        return None
    row_sums = np.concatenate([np.zeros((height, 1)), np.cumsum(row_edges, axis=1)], axis=1)
    col_sums = np.concatenate([np.zeros((1, width)), np.cumsum(col_edges, axis=0)], axis=0)
    scored: list[tuple[float, tuple[int, int, int, int]]] = []
    for top_index, top in enumerate(rows):
        for bottom in rows[top_index + 1 :]:
            box_height = bottom - top
            if box_height < height * 0.3:
                continue
            for left_index, left in enumerate(cols):
                for right in cols[left_index + 1 :]:
                    box_width = right - left
                    area = box_width * box_height / (width * height)
                    if not _MIN_WINDOW_AREA <= area <= _MAX_WINDOW_AREA:
                        continue
                    aspect = box_width / box_height
                    if not _ASPECT_RANGE[0] <= aspect <= _ASPECT_RANGE[1]:
                        continue
                    coverage = min(
                        (row_sums[top, right] - row_sums[top, left]) / box_width,
                        (row_sums[bottom, right] - row_sums[bottom, left]) / box_width,
                        (col_sums[bottom, left] - col_sums[top, left]) / box_height,
                        (col_sums[bottom, right] - col_sums[top, right]) / box_height,
                    )
                    if coverage < _SIDE_COVERAGE:
                        continue
                    # A side of the video ends at the video's corners; a line running on far past
                    # them (browser chrome, a column of thumbnails) is the page's, not the video's.
                    outside_width = max(1, width - box_width - 4)
                    outside_height = max(1, height - box_height - 4)
                    overhang = max(
                        _outside(row_sums[top], left, right) / outside_width,
                        _outside(row_sums[bottom], left, right) / outside_width,
                        _outside(col_sums[:, left], top, bottom) / outside_height,
                        _outside(col_sums[:, right], top, bottom) / outside_height,
                    )
                    if overhang <= _MAX_OVERHANG:
                        score = area * coverage * _aspect_prior(aspect)
                        scored.append((score, (left, top, right, bottom)))
    scored.sort(key=lambda item: -item[0])
    for _score, box in scored[:50]:
        if _ui_sides(pixels, box) >= 3 and not _has_gutter(pixels, box):
            return box
    return None


def _outside(prefix: np.ndarray, start: int, end: int) -> float:
    """Edge pixels of a line (given as prefix sums) more than 2 px beyond [start, end)."""
    before = prefix[max(0, start - 2)]
    after = prefix[-1] - prefix[min(len(prefix) - 1, end + 2)]
    return float(before + after)


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
    near = np.abs(inner - colours[None]).max(axis=-1) <= _FLAT_TOLERANCE
    return bool((near.mean(axis=0) >= 0.97).any())


def _aspect_prior(aspect: float) -> float:
    """Favour the shapes video comes in, so a box that swallows the control bar loses."""
    distance = min(abs(np.log(aspect / standard)) for standard in _VIDEO_ASPECTS)
    return float(np.exp(-8.0 * distance))


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
        if _share_near(line[None], colour)[0] >= _UI_LINE_SHARE:
            count += 1
    return count


def _edge_lines(edges: np.ndarray, length: int, limit: int = 24) -> list[int]:
    """Lines whose edge pixels cover at least `_LINE_SHARE` of the length, strongest first.

    Only the `limit` strongest survive, so the rectangle search stays small; neighbouring indices
    (an edge drawn over two lines by resampling) keep only the stronger one.
    """
    strength = edges.sum(axis=1)
    order = np.argsort(-strength)
    chosen: list[int] = []
    for index in order:
        if strength[index] < _LINE_SHARE * length or len(chosen) >= limit:
            break
        if index == 0 or any(abs(int(index) - other) <= 1 for other in chosen):
            continue
        chosen.append(int(index))
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


def _rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")
