"""Letterbox and pillarbox bars: the flat strips around a frame, found on a small RGB copy.

A strip counts as a bar only when it is one colour line after line (JPEG noise allowed) and
either the opposite side has a matching one (centred) or it is near black (a one-sided crop).
`index.query.screenshot` trims them before searching; its player-window search shares the
flat-colour tests (`near`, `share_near`).
"""

from __future__ import annotations

import numpy as np

_FLAT_TOLERANCE = 16.0  # max channel difference (0..255) still "the same colour" under JPEG noise
_FLAT_SHARE = 0.95  # share of a line's pixels in the border colour for the line to be border
_DARK_BAR = 40.0  # a one-sided bar must be this dark (every channel) to be trimmed
_BAR_DRIFT = 5.0  # max change of a bar line's median brightness from the first line's
# ITU-R 601 luma weights, as PIL's convert("L"): a line's brightness from its median colour.
_LUMA = np.array([0.299, 0.587, 0.114])
_MAX_TRIM = 0.45  # never trim more than this share of a side's length from one edge
MIN_KEPT = 0.3  # share of each side a trimmed frame or a player window keeps at least
_PAIRED_BAR_SLACK = 0.25  # opposite bars within this share of the larger are a centred pair
_MAX_BAR_GAP = 0.08  # of the side: a bar may be broken (a logo, a subtitle) this long
_MIN_BAR = 0.01  # of the side: a shorter flat run is the frame's, not a bar


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
    if box[2] - box[0] < width * MIN_KEPT or box[3] - box[1] < height * MIN_KEPT:
        return None, False  # nearly everything looks flat: a blank image, not a bordered one
    return box, rows_centred or columns_centred


def _bar_pair(lines: np.ndarray, reversed_lines: np.ndarray) -> tuple[int, int, bool]:
    """Bars at both ends of `lines` (top and bottom, or left and right), and whether centred.

    A run is measured only where it can count: both ends start flat (a centred pair?), or the
    end is dark (a one-sided bar). A flat sky over a busy foreground is common in frames, and
    measuring its run would be thrown away.
    """
    colours = np.median(lines[0], axis=0), np.median(reversed_lines[0], axis=0)
    ends = (lines, reversed_lines)
    flat = [_starts_flat(end, colour) for end, colour in zip(ends, colours, strict=True)]
    dark = [bool(colour.max() <= _DARK_BAR) for colour in colours]
    first, second = (
        _flat_run(ends[i], colours[i]) if flat[i] and (flat[1 - i] or dark[i]) else 0
        for i in (0, 1)
    )
    if first and second:
        similar_size = abs(first - second) <= max(3, _PAIRED_BAR_SLACK * max(first, second))
        similar_colour = np.abs(colours[0] - colours[1]).max() <= _FLAT_TOLERANCE
        if similar_size and similar_colour:
            return first, second, True
    return (first if dark[0] else 0), (second if dark[1] else 0), False


def _starts_flat(pixels: np.ndarray, colour: np.ndarray) -> bool:
    """Whether the first line (axis 0) is flat in `colour`: a bar can start there."""
    return bool(share_near(pixels[:1], colour)[0] >= _FLAT_SHARE)


def _flat_run(pixels: np.ndarray, colour: np.ndarray) -> int:
    """How many lines from the first one (axis 0) are bar: flat, in `colour` (the first line's).

    Most screenshots have no bar, so the first line is checked alone first; after that, lines
    are judged a chunk at a time (doubling) until the run is decided, since a bar rarely reaches
    the `_MAX_TRIM` limit and judging a line costs more than deciding the run.
    """
    if not _starts_flat(pixels, colour):
        return 0
    limit = int(pixels.shape[0] * _MAX_TRIM)
    max_gap = max(3, pixels.shape[0] * _MAX_BAR_GAP)
    known = min(limit + 1, max(16, (limit + 1) // 3))
    while True:
        run = _bar_run(_flat_lines(pixels[:known], colour), limit, max_gap)
        if run is not None:
            break
        known = min(limit + 1, 2 * known)
    run = min(run, limit)
    return run if run >= max(2, pixels.shape[0] * _MIN_BAR) else 0


def _flat_lines(lines: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Which lines are bar: nearly all pixels near `colour`, and the line's median within drift.

    A bar is one colour line after line; a sky gradient drifts, so each line's median brightness
    must stay within `_BAR_DRIFT` of the first line's, and its pixels within `_FLAT_TOLERANCE` of
    it. Brightness, not each channel: JPEG keeps colour at half resolution and quantises it
    harder, so the picture's colour bleeds a few lines into a re-encoded bar (6-9 levels in one
    channel) while its brightness stays flat (docs/pictures.md, 16:30 UTC).
    The costly medians are taken only of lines whose pixels are already near the colour.
    """
    flat = share_near(lines, colour) >= _FLAT_SHARE
    near = np.flatnonzero(flat)
    if near.size:
        drift = np.abs((np.median(lines[near], axis=1) - colour) @ _LUMA)
        flat[near] = drift <= _BAR_DRIFT
    return flat


def _bar_run(flat: np.ndarray, limit: int, max_gap: float) -> int | None:
    """Length of the bar given the first lines' flags (up to `limit` + 1); None: need more lines.

    A subtitle in a black bar breaks a few lines; the run goes on when the bar resumes within
    `max_gap` lines and holds for two more.
    """
    known = len(flat)
    complete = known > limit
    run = 0
    index = 0
    while index <= limit:
        if index >= known:
            return None
        if flat[index]:
            run = index + 1
            index += 1
            continue
        gap_end = index
        while gap_end < known and not flat[gap_end]:
            gap_end += 1
        if gap_end - index > max_gap:
            break  # the gap is at least this long whatever the lines after `known` are
        if gap_end == known:
            if complete:
                break  # the gap runs past the limit
            return None
        if gap_end + 2 > known and not complete:
            return None
        if not flat[gap_end : gap_end + 2].all():
            break
        index = gap_end
    return run


def share_near(lines: np.ndarray, colour: np.ndarray) -> np.ndarray:
    return near(lines, colour).mean(axis=-1)


def near(pixels: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Which uint8 pixels are within `_FLAT_TOLERANCE` of `colour` in every channel.

    Integer pixels are near a (possibly half-integer) colour exactly when they lie in the whole
    numbers [ceil(c - t), floor(c + t)], so the test stays in uint8 with no float copy.
    """
    low = np.clip(np.ceil(colour - _FLAT_TOLERANCE), 0, 255).astype(np.uint8)
    high = np.clip(np.floor(colour + _FLAT_TOLERANCE), 0, 255).astype(np.uint8)
    inside = (pixels >= low) & (pixels <= high)
    return inside[..., 0] & inside[..., 1] & inside[..., 2]
