"""index/query/lines.py: the long straight edges that bound a screen or a window."""

from __future__ import annotations

import cv2
import numpy as np

from index.query.lines import colour_edges, straight_lines


def _picture_with(quad: np.ndarray) -> np.ndarray:
    """A grey 320x180 picture with a lighter quadrilateral on it."""
    pixels = np.full((180, 320, 3), 60, np.uint8)
    cv2.fillConvexPoly(pixels, quad.astype(np.int32), (200, 200, 200))
    return pixels


def _y_at(lines: np.ndarray, x: float) -> np.ndarray:
    rho, theta = lines.T
    return (rho - x * np.cos(theta)) / np.sin(theta)


def _x_at(lines: np.ndarray, y: float) -> np.ndarray:
    rho, theta = lines.T
    return (rho - y * np.sin(theta)) / np.cos(theta)


def test_a_slanted_quadrilateral_s_four_sides_are_found_in_order() -> None:
    quad = np.float32([[60, 30], [260, 40], [250, 150], [70, 140]])  # a screen seen at an angle
    across, down = straight_lines(colour_edges(_picture_with(quad)))
    tops = _y_at(across, 160.0)
    lefts = _x_at(down, 90.0)
    assert np.all(np.diff(tops) > 0) and np.all(np.diff(lefts) > 0)  # top to bottom, left to right
    assert np.abs(tops - 35).min() <= 1.5 and np.abs(tops - 145).min() <= 1.5
    assert np.abs(lefts - 65).min() <= 1.5 and np.abs(lefts - 255).min() <= 1.5


def test_a_side_that_changes_hue_alone_is_an_edge() -> None:
    pixels = np.zeros((180, 320, 3), np.uint8)
    pixels[..., 0] = 120
    pixels[40:140, 80:240] = (0, 120, 0)  # red to green: a side seen in the colour channels
    across, down = straight_lines(colour_edges(pixels))
    assert np.abs(_y_at(across, 160.0) - 40).min() <= 1.5
    assert np.abs(_x_at(down, 90.0) - 80).min() <= 1.5


def test_a_blank_picture_has_no_lines() -> None:
    across, down = straight_lines(colour_edges(np.full((180, 320, 3), 90, np.uint8)))
    assert across.shape == (0, 2) and down.shape == (0, 2)


def test_a_side_slanted_under_a_degree_found_as_level_pieces_is_one_line() -> None:
    """The bottom side falls 3 px over 248 (0.7 degrees): Hough returns it as level pieces a
    pixel apart, each left as found (upright), none within 1.9 px of the side at both ends; the
    line through them is (docs/pictures.md, 2026-12-01 05:30: 13:13, 21:40)."""
    quad = np.float32([[30, 40], [300, 20], [298, 169], [50, 172]])
    pixels = np.full((180, 320, 3), 60, np.uint8)
    corners = np.round(quad * 16).astype(np.int32)  # 4 bits of sub-pixel precision
    cv2.fillConvexPoly(pixels, corners, (200, 200, 200), lineType=cv2.LINE_AA, shift=4)
    across, _ = straight_lines(colour_edges(cv2.GaussianBlur(pixels, (0, 0), 0.7)))
    error = np.maximum(*(np.abs(_y_at(across, x) - (172 - 3 * (x - 50) / 248)) for x in (60, 290)))
    assert error.min() <= 1.0, error.min()
