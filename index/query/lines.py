"""The long straight edges of a picture: the candidate sides of `inner.find_quads`.

Canny on each colour channel (a window's side can be a change of hue alone), OpenCV's
probabilistic Hough for the strongest distinct lines each way, each slanted line refitted to its
edge pixels, and the strongest upright rows and columns Hough misses added as lines of their
own. Measured in `docs/pictures.md`.
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
    dx, dy = (segments[:, 2:] - segments[:, :2]).T
    theta = np.arctan2(dx, -dy) % np.pi
    rho = segments[:, 0] * np.cos(theta) + segments[:, 1] * np.sin(theta)
    found = np.stack([rho, theta], axis=-1)[:, None]
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
        at_ends = np.concatenate([_at(line, 0, vertical), _at(line, span, vertical)])
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
            np.concatenate([_at(line, 0, vertical), _at(line, span, vertical)])
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
    across, down = (np.array(kind, dtype=np.float64).reshape(-1, 2) for kind in kinds)
    # order: across by y at the middle column, down by x at the middle row
    across = across[np.argsort(_at(across, width / 2, vertical=False))]
    down = down[np.argsort(_at(down, height / 2, vertical=True))]
    return across, down


def _refit(line: tuple[float, float], points: np.ndarray) -> tuple[float, float]:
    """`line` (rho, theta) fitted to the edge `points` within `_REFIT_BAND` of it (OpenCV's
    `fitLine`, Huber: a crossing edge's few pixels barely pull); as it was when upright (a
    window's side, which the upright rows and columns find) or with too few pixels near."""
    rho, theta = line
    if min(abs(theta), abs(theta - np.pi / 2)) < _UPRIGHT:
        return line
    normal = np.array([np.cos(theta), np.sin(theta)])
    near = points[np.abs(points @ normal - rho) <= _REFIT_BAND]
    if len(near) < 8:
        return line
    vx, vy, x0, y0 = cv2.fitLine(near, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
    fitted = np.array([-vy, vx], dtype=np.float64)  # its normal, facing as the line's did
    if fitted @ normal < 0:
        fitted = -fitted
    return float(fitted @ [x0, y0]), float(np.arctan2(fitted[1], fitted[0]))


def _at(lines: np.ndarray, where: float, vertical: bool) -> np.ndarray:
    """y of near-horizontal lines at x = where, or x of near-vertical lines at y = where."""
    rho, theta = lines[:, 0], lines[:, 1]
    if vertical:
        return (rho - where * np.sin(theta)) / np.cos(theta)
    return (rho - where * np.cos(theta)) / np.sin(theta)
