"""Flat-shaded background sets (sky, room, city, forest), drawn once per location as panoramas."""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from synthetic.titles import RGB, TitleStyle, shade

PANORAMA_WIDTHS = 3  # a location is this many canvases wide; each shot views one slice of it


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    w, h = size
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    rows = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t
    return Image.fromarray(np.repeat(rows[:, None, :], w, axis=1).round().astype(np.uint8), "RGB")


def _clouds(
    draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, style: TitleStyle
) -> None:
    light = _mix(style.sky_bottom, (255, 255, 255), 0.8)
    shadow = _mix(light, style.sky_top, 0.25)
    for _ in range(rng.randint(4, 9)):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0.05, 0.45) * h, rng.uniform(0.04, 0.09) * h
        puffs = [
            (
                cx + rng.uniform(-2.5, 2.5) * r,
                cy + rng.uniform(-0.6, 0.3) * r,
                r * rng.uniform(0.7, 1.3),
            )
            for _ in range(rng.randint(3, 6))
        ]
        for x, y, pr in puffs:
            draw.ellipse((x - pr, y - pr + pr * 0.25, x + pr, y + pr + pr * 0.25), fill=shadow)
        for x, y, pr in puffs:
            draw.ellipse((x - pr, y - pr, x + pr, y + pr), fill=light)


def _sky(style: TitleStyle, rng: random.Random, w: int, h: int) -> Image.Image:
    image = _gradient((w, h), style.sky_top, style.sky_bottom)
    draw = ImageDraw.Draw(image)
    sx, sy, sr = rng.uniform(0, w), rng.uniform(0.1, 0.3) * h, rng.uniform(0.04, 0.08) * h
    draw.ellipse(
        (sx - sr, sy - sr, sx + sr, sy + sr), fill=_mix(style.sky_bottom, (255, 255, 240), 0.7)
    )
    _clouds(draw, rng, w, h, style)
    horizon = rng.uniform(0.6, 0.72) * h
    far = _mix(style.ground, style.sky_bottom, 0.55)
    for _ in range(rng.randint(4, 8)):  # distant hills
        x, r = rng.uniform(0, w), rng.uniform(0.2, 0.5) * h
        draw.ellipse((x - 2 * r, horizon - r * 0.5, x + 2 * r, horizon + r), fill=far)
    draw.rectangle((0, horizon + 0.05 * h, w, h), fill=style.ground)
    draw.rectangle((0, horizon + 0.2 * h, w, h), fill=shade(style.ground, 0.88))
    pole_gap = rng.uniform(0.5, 0.9) * h  # telegraph poles and wires: an anime countryside staple
    tops = []
    for k in range(int(w / pole_gap) + 1):
        x = k * pole_gap + rng.uniform(-0.05, 0.05) * h
        draw.rectangle(
            (x - 0.008 * h, 0.2 * h, x + 0.008 * h, horizon + 0.12 * h), fill=(60, 55, 60)
        )
        draw.rectangle((x - 0.05 * h, 0.23 * h, x + 0.05 * h, 0.24 * h), fill=(60, 55, 60))
        tops.append(x)
    for a, b in zip(tops, tops[1:], strict=False):
        for dx in (-0.045, 0.045):
            draw.line(
                [
                    (a + dx * h, 0.235 * h),
                    ((a + b) / 2 + dx * h, 0.27 * h),
                    (b + dx * h, 0.235 * h),
                ],
                fill=(50, 50, 55),
                width=2,
            )
    return image


def _room(style: TitleStyle, rng: random.Random, w: int, h: int) -> Image.Image:
    image = Image.new("RGB", (w, h), style.wall)
    draw = ImageDraw.Draw(image)
    floor_y = rng.uniform(0.68, 0.76) * h
    draw.rectangle((0, 0, w, 0.06 * h), fill=shade(style.wall, 0.85))
    draw.rectangle((0, floor_y - 0.06 * h, w, floor_y), fill=shade(style.wall, 0.75))
    draw.rectangle((0, floor_y, w, h), fill=style.floor)
    for k in range(int(w / (0.12 * h)) + 1):  # floorboards
        x = k * 0.12 * h
        draw.line([(x, floor_y), (x - 0.1 * h, h)], fill=shade(style.floor, 0.85), width=2)
    x = rng.uniform(0.05, 0.3) * h
    while x < w:
        kind = rng.choice(("window", "window", "shelf", "poster", "door", "board"))
        width = {"window": 0.55, "shelf": 0.5, "poster": 0.25, "door": 0.3, "board": 0.9}[kind] * h
        if kind == "window":
            top, bottom = 0.14 * h, floor_y - 0.22 * h
            draw.rectangle((x, top, x + width, bottom), fill=(250, 250, 250))
            sky = _gradient(
                (round(width - 0.04 * h), round(bottom - top - 0.04 * h)),
                style.sky_top,
                style.sky_bottom,
            )
            image.paste(sky, (round(x + 0.02 * h), round(top + 0.02 * h)))
            draw.line(
                [(x + width / 2, top), (x + width / 2, bottom)], fill=(250, 250, 250), width=5
            )
            draw.rectangle(
                (x - 0.04 * h, top - 0.04 * h, x + width * 0.25, bottom + 0.02 * h),
                fill=style.accents[1],
            )  # curtain
        elif kind == "shelf":
            top = rng.uniform(0.2, 0.35) * h
            draw.rectangle((x, top, x + width, floor_y), fill=shade(style.floor, 0.8))
            for row in range(3):
                y0 = top + 0.03 * h + row * (floor_y - top) / 3
                bx = x + 0.02 * h
                while bx < x + width - 0.05 * h:
                    bw = rng.uniform(0.02, 0.045) * h
                    bh = rng.uniform(0.6, 0.9) * (floor_y - top) / 3 - 0.03 * h
                    draw.rectangle(
                        (
                            bx,
                            y0 + (floor_y - top) / 3 - bh - 0.03 * h,
                            bx + bw,
                            y0 + (floor_y - top) / 3 - 0.03 * h,
                        ),
                        fill=rng.choice(style.accents),
                    )
                    bx += bw + 0.004 * h
        elif kind == "poster":
            draw.rectangle((x, 0.2 * h, x + width, 0.5 * h), fill=rng.choice(style.accents))
            draw.ellipse(
                (x + 0.05 * h, 0.26 * h, x + width - 0.05 * h, 0.4 * h), fill=(250, 250, 240)
            )
        elif kind == "door":
            draw.rectangle((x, 0.12 * h, x + width, floor_y), fill=shade(style.floor, 1.2))
            draw.ellipse(
                (x + width * 0.8, 0.45 * h, x + width * 0.88, 0.5 * h), fill=(230, 200, 90)
            )
        else:  # chalkboard: the classroom look
            draw.rectangle((x, 0.16 * h, x + width, 0.5 * h), fill=(110, 80, 50))
            draw.rectangle(
                (x + 0.02 * h, 0.18 * h, x + width - 0.02 * h, 0.48 * h), fill=(40, 85, 65)
            )
        x += width + rng.uniform(0.15, 0.5) * h
    return image


def _city(style: TitleStyle, rng: random.Random, w: int, h: int) -> Image.Image:
    image = _gradient((w, h), style.sky_top, style.sky_bottom)
    draw = ImageDraw.Draw(image)
    _clouds(draw, rng, w, h, style)
    street = rng.uniform(0.78, 0.85) * h
    for depth, factor in ((0, 0.55), (1, 0.0)):  # far skyline, then near buildings
        color = _mix(style.building, style.sky_bottom, factor)
        window = _mix(color, (255, 240, 180), 0.6 if depth else 0.25)
        x = rng.uniform(-0.2, 0) * h
        while x < w:
            bw = rng.uniform(0.15, 0.4) * h
            top = rng.uniform(0.1, 0.45 if depth else 0.35) * h + depth * 0.12 * h
            draw.rectangle((x, top, x + bw, street), fill=color)
            if depth and rng.random() < 0.5:  # rooftop water tank
                draw.rectangle((x + bw * 0.2, top - 0.05 * h, x + bw * 0.45, top), fill=color)
            step_x, step_y = rng.uniform(0.04, 0.06) * h, rng.uniform(0.05, 0.07) * h
            wy = top + 0.03 * h
            while wy < street - 0.06 * h:
                wx = x + 0.025 * h
                while wx < x + bw - 0.04 * h:
                    draw.rectangle((wx, wy, wx + step_x * 0.55, wy + step_y * 0.55), fill=window)
                    wx += step_x
                wy += step_y
            x += bw + rng.uniform(0.0, 0.06) * h
    draw.rectangle((0, street, w, h), fill=(95, 95, 105))
    draw.rectangle((0, street, w, street + 0.03 * h), fill=(170, 170, 175))
    for k in range(int(w / (0.2 * h)) + 1):  # lane dashes
        draw.rectangle(
            (k * 0.2 * h, street + 0.1 * h, k * 0.2 * h + 0.1 * h, street + 0.11 * h),
            fill=(235, 235, 235),
        )
    return image


def _forest(style: TitleStyle, rng: random.Random, w: int, h: int) -> Image.Image:
    image = _gradient((w, h), style.sky_top, style.sky_bottom)
    draw = ImageDraw.Draw(image)
    ground = rng.uniform(0.72, 0.8) * h
    pines = rng.random() < 0.5
    for layer, fade in enumerate((0.6, 0.3, 0.0)):
        leaf = _mix(shade(style.foliage, 1.0 - 0.15 * layer), style.sky_bottom, fade)
        trunk = _mix((90, 60, 45), style.sky_bottom, fade)
        scale = 0.6 + 0.3 * layer
        x = rng.uniform(-0.1, 0.0) * h
        while x < w:
            tw, th = 0.04 * h * scale, rng.uniform(0.35, 0.55) * h * scale
            base = ground - (2 - layer) * 0.04 * h
            draw.rectangle((x - tw / 2, base - th, x + tw / 2, base), fill=trunk)
            if pines:
                for k in range(3):
                    y = base - th * (0.3 + 0.25 * k)
                    half = (0.22 - 0.05 * k) * h * scale
                    draw.polygon(
                        [
                            (x - half, y + 0.1 * h * scale),
                            (x, y - 0.18 * h * scale),
                            (x + half, y + 0.1 * h * scale),
                        ],
                        fill=leaf,
                    )
            else:
                for _ in range(4):
                    r = rng.uniform(0.09, 0.15) * h * scale
                    cx = x + rng.uniform(-0.6, 0.6) * r
                    cy = base - th + rng.uniform(-0.4, 0.6) * r
                    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=leaf)
            x += rng.uniform(0.12, 0.3) * h * scale
    draw.rectangle((0, ground, w, h), fill=shade(style.foliage, 0.75))
    for _ in range(int(w / (0.1 * h))):  # grass tufts
        gx, gy = rng.uniform(0, w), rng.uniform(ground + 0.03 * h, h)
        draw.polygon(
            [(gx - 0.015 * h, gy), (gx, gy - 0.04 * h), (gx + 0.015 * h, gy)],
            fill=shade(style.foliage, 0.6),
        )
    return image


_DRAWERS: dict[str, Callable[[TitleStyle, random.Random, int, int], Image.Image]] = {
    "sky": _sky,
    "room": _room,
    "city": _city,
    "forest": _forest,
}


# Small caches: a 640x360 panorama is ~5 MB, and a title has at most 7 locations.
@lru_cache(maxsize=8)
def location_panorama(style: TitleStyle, location: int, canvas: tuple[int, int]) -> Image.Image:
    """The whole set of one location, `PANORAMA_WIDTHS` canvases wide; cached, do not modify."""
    kind, layout_seed = style.locations[location]
    w, h = canvas
    image = _DRAWERS[kind](style, random.Random(layout_seed), w * PANORAMA_WIDTHS, h)
    grade = np.asarray(style.grade, np.float32)
    graded = np.asarray(image, np.float32) * grade
    return Image.fromarray(np.clip(graded, 0, 255).astype(np.uint8), "RGB")
