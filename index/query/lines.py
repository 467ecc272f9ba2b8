"""The long straight edges of a picture: the candidate sides of `inner.find_quads`.

Canny on each colour channel (a window's side can be a change of hue alone), OpenCV's
probabilistic Hough for the strongest distinct lines each way, each slanted line refitted to its
edge pixels, the strongest upright rows and columns Hough misses added as lines of their own,
and the line through level pieces of a side slanted under a degree (`_joined`). Measured in
`docs/pictures.md`.
"""

from __future__ import annotations

import cv2
import numpy as np

from index.query.screenshot import edge_lines

_CANNY_LOW = 20  # Canny's low threshold (the high one is 3x): a shadowed side is soft
_LINES = 16  # strongest distinct lines kept per direction (16 x 16: 14,400 quadrilaterals)
_AXIS_LINES = 12  # strongest upright rows / columns added per direction (`straight_lines`)
_LINE_SHARE = 0.25  # a line needs edge pixels along this share of the short side (Hough votes)
_MAX_TILT = np.radians(25)  # lines further from horizontal or vertical than this are not sides
_REFIT_BAND = 1.0  # px of the analysis copy: edge pixels this near a slanted line refit it
_UPRIGHT = np.radians(0.5)  # a line this near upright is kept as found (`_refit`)
_JOIN_GAP = 2.0  # px: upright segments whose ends lie this near each other's line are joined
_JOIN_FIT = 1.0  # px: ... when a line through all their ends passes this near each end
_JOIN_SLANT = np.radians(0.25)  # ... and slants this much
_JOIN_SPAN = 0.5  # ... and spans this share of the picture across (a screen's side: most of it)


def colour_edges(small: np.ndarray) -> np.ndarray:
    """Canny edges of any colour channel: a window's side can be a change of hue alone."""
    blurred = cv2.GaussianBlur(small, (3, 3), 0)
    return np.bitwise_or.reduce(
        [
            cv2.Canny(np.ascontiguousarray(blurred[..., c]), _CANNY_LOW, 3 * _CANNY_LOW)
            for c in range(3)
        ]
    )


def straight_lines(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The strongest distinct straight lines as (rho, theta) rows: near-horizontal ones, top to
    bottom, and near-vertical ones, left to right."""
    height, width = edges.shape
    short = min(height, width)
    segments = cv2.HoughLinesP(
        edges, 1, np.pi / 360, threshold=int(_LINE_SHARE * short),
        minLineLength=_LINE_SHARE * short, maxLineGap=4,
    )  # fmt: skip
    segments = np.zeros((0, 4)) if segments is None else segments.reshape(-1, 4).astype(float)
    segments = segments[np.argsort(-np.hypot(*(segments[:, 2:] - segments[:, :2]).T))]
    # (rho, theta) of each segment's line: theta is the angle of its normal
    found = _polar(segments[:, :2], segments[:, 2:])[:, None]
    kinds: tuple[list[tuple[float, float]], list[tuple[float, float]]] = ([], [])
    ends: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    for rho, theta in [] if found is None else found[:, 0]:
        if theta > np.pi / 2 + _MAX_TILT:  # the same line as (-rho, theta - pi): keep theta small
            rho, theta = -rho, theta - np.pi
        vertical = bool(abs(theta) < _MAX_TILT)
        if not vertical and abs(theta - np.pi / 2) >= _MAX_TILT:
            continue
        line = np.array([[rho, theta]])
        span = height if vertical else width
        at_ends = np.concatenate([line_at(line, 0, vertical), line_at(line, span, vertical)])
        kind, seen = kinds[vertical], ends[vertical]
        if len(kind) < _LINES and all(np.abs(at_ends - other).max() > 4 for other in seen):
            kind.append((float(rho), float(theta)))
            seen.append(at_ends)
    # Hough's line is its segment's, extended: a degree askew, it leaves a side's far part a
    # pixel or two off, without edge support (a screen seen at an angle: docs/pictures.md,
    # 19:30). Each slanted line is fitted to the edge pixels along it.
    points = np.argwhere(edges)[:, ::-1].astype(np.float32)  # (x, y) of every edge pixel
    for vertical in (False, True):
        span = height if vertical else width
        kinds[vertical][:] = [_refit(line, points) for line in kinds[vertical]]
        ends[vertical][:] = [
            np.concatenate([line_at(line, 0, vertical), line_at(line, span, vertical)])
            for line in np.array(kinds[vertical]).reshape(-1, 1, 2)
        ]
    # Upright sides Hough misses: a thin border's edge wanders over two rows or columns, and over
    # a city the buildings' lines fill the `_LINES` first. The `_AXIS_LINES` strongest rows and
    # columns mostly on an edge (within a pixel) that are distinct from the lines kept (a column
    # of a building's windows, and its neighbours, took the slots of a window's side otherwise)
    # are added as lines of their own.
    for vertical in (False, True):
        spread = cv2.dilate(edges, np.ones((1, 3) if vertical else (3, 1), np.uint8))
        spread = spread.T if vertical else spread
        strength = np.count_nonzero(spread, axis=1)
        span = height if vertical else width
        kind, seen = kinds[vertical], ends[vertical]
        added = 0
        for index in sorted(edge_lines(spread, span, len(spread)), key=lambda i: -strength[i]):
            at_ends = np.float64([index, index])
            if all(np.abs(at_ends - other).max() > 2 for other in seen):
                kind.append((float(index), 0.0 if vertical else np.pi / 2))
                seen.append(at_ends)
                added += 1
                if added == _AXIS_LINES:
                    break
    # A side slanted under a degree is found as level pieces a pixel apart, each left as found
    # by `_refit`, none on the side's whole length: the line through them joins the others
    # (docs/pictures.md, 2026-12-01 05:30)
    for rho, theta in _joined(segments, points, (width, height)):
        if theta > np.pi / 2 + _MAX_TILT:
            rho, theta = -rho, theta - np.pi
        vertical = bool(abs(theta) < _MAX_TILT)
        line = np.array([[rho, theta]])
        span = height if vertical else width
        at_ends = np.concatenate([line_at(line, 0, vertical), line_at(line, span, vertical)])
        if all(np.abs(at_ends - other).max() > 1 for other in ends[vertical]):
            kinds[vertical].append((float(rho), float(theta)))
            ends[vertical].append(at_ends)
    across, down = (np.array(kind, dtype=np.float64).reshape(-1, 2) for kind in kinds)
    # order: across by y at the middle column, down by x at the middle row
    across = across[np.argsort(line_at(across, width / 2, vertical=False))]
    down = down[np.argsort(line_at(down, height / 2, vertical=True))]
    return across, down


def segment_support(
    near: np.ndarray, start: np.ndarray, end: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Share of points between `start` and `end` (broadcast, (..., 2)) on an edge pixel."""
    height, width = near.shape
    start, end = np.broadcast_arrays(start, end)
    points = start[..., None, :] + u * (end - start)[..., None, :]
    x, y = points[..., 0], points[..., 1]
    inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)  # NaN (parallel lines): outside
    column = np.minimum(np.rint(np.where(inside, x, 0)), width - 1).astype(np.intp)
    row = np.minimum(np.rint(np.where(inside, y, 0)), height - 1).astype(np.intp)
    return (near[row, column] & inside).mean(axis=-1)


def _polar(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """(rho, theta) rows of the lines through `start` and `end` (n, 2): theta is the normal's."""
    dx, dy = (end - start).T
    theta = np.arctan2(dx, -dy) % np.pi
    return np.stack([start[:, 0] * np.cos(theta) + start[:, 1] * np.sin(theta), theta], axis=-1)


def _joined(segments: np.ndarray, points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(rho, theta) of the lines through chains of upright Hough segments (n, 4) that lie a pixel
    apart and together slant, fitted to the edge `points` along them: a side tilted under a
    degree is found as level pieces, each a pixel off the next, which `_refit` leaves as found.
    Only chains spanning `_JOIN_SPAN` of the picture (`size`: width, height) along them: shorter
    ones were slanted edges of the frame's own, which a bezel's peel then took for the frame's
    side (docs/pictures.md, 2026-12-01 05:30)."""
    start, end = segments[:, :2], segments[:, 2:]
    theta = _polar(start, end)[:, 1]
    upright = np.minimum(np.abs(theta % (np.pi / 2)), np.pi / 2 - theta % (np.pi / 2)) < _UPRIGHT
    start, end, theta = start[upright], end[upright], theta[upright]
    if len(start) < 2:
        return np.zeros((0, 2))
    normal = np.stack([np.cos(theta), np.sin(theta)], axis=-1)  # (n, 2)
    # off[i, j]: how far segment j's ends lie from segment i's line
    off = np.maximum(*(np.abs(((ends[None] - start[:, None]) * normal[:, None]).sum(-1))
                       for ends in (start, end)))  # fmt: skip
    same_way = np.abs(np.sin(theta[:, None] - theta[None])) < np.sin(_UPRIGHT * 2)
    close = same_way & (np.maximum(off, off.T) <= _JOIN_GAP)
    label = np.arange(len(close))  # chains: each segment takes its chain's lowest index
    while not np.array_equal(label, joined := np.where(close, label, len(label)).min(axis=1)):
        label = joined
    lines = []
    for group in np.unique(label):
        members = label == group
        if members.sum() < 2:
            continue
        ends = np.concatenate([start[members], end[members]]).astype(np.float32)
        level = abs(np.cos(theta[members][0])) < 0.5  # a near-horizontal chain spans x
        along = ends[:, 0] if level else ends[:, 1]
        if np.ptp(along) < _JOIN_SPAN * size[0 if level else 1]:
            continue
        vx, vy, x0, y0 = cv2.fitLine(ends, cv2.DIST_L2, 0, 0.01, 0.01).ravel()
        line = _polar(np.float64([[x0, y0]]), np.float64([[x0 + vx, y0 + vy]]))[0]
        slant = min(line[1] % (np.pi / 2), np.pi / 2 - line[1] % (np.pi / 2))
        residual = np.abs(ends @ [np.cos(line[1]), np.sin(line[1])] - line[0]).max()
        if slant >= _JOIN_SLANT and residual <= _JOIN_FIT:
            lines.append(_fit(tuple(line), points))
    return np.reshape(lines, (-1, 2))


def _refit(line: tuple[float, float], points: np.ndarray) -> tuple[float, float]:
    """`line` (rho, theta) fitted to the edge `points` within `_REFIT_BAND` of it (OpenCV's
    `fitLine`, Huber: a crossing edge's few pixels barely pull); as it was when upright (a
    window's side, which the upright rows and columns find) or with too few pixels near."""
    rho, theta = line
    if min(abs(theta), abs(theta - np.pi / 2)) < _UPRIGHT:
        return line
    return _fit(line, points)


def _fit(line: tuple[float, float], points: np.ndarray) -> tuple[float, float]:
    """`line` (rho, theta) fitted to the edge `points` within `_REFIT_BAND` of it (`_refit`)."""
    rho, theta = line
    normal = np.array([np.cos(theta), np.sin(theta)])
    near = points[np.abs(points @ normal - rho) <= _REFIT_BAND]
    if len(near) < 8:
        return line
    vx, vy, x0, y0 = cv2.fitLine(near, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
    fitted = np.array([-vy, vx], dtype=np.float64)  # its normal, facing as the line's did
    if fitted @ normal < 0:
        fitted = -fitted
    return float(fitted @ [x0, y0]), float(np.arctan2(fitted[1], fitted[0]))


def line_at(lines: np.ndarray, where: float, vertical: bool) -> np.ndarray:
    """y of near-horizontal lines at x = where, or x of near-vertical lines at y = where."""
    rho, theta = lines[:, 0], lines[:, 1]
    if vertical:
        return (rho - where * np.sin(theta)) / np.cos(theta)
    return (rho - where * np.cos(theta)) / np.sin(theta)
