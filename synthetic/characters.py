"""Flat-shaded, outlined anime-style figures made of ellipses and polygons, cached as sprites."""

from __future__ import annotations

import math
from functools import lru_cache

from PIL import Image, ImageDraw

from synthetic.titles import RGB, CharacterDesign, TitleStyle, shade

_SUPERSAMPLE = 2  # draw large, then shrink: PIL draws without anti-aliasing


class _Pen:
    """Draws in head units around the figure's top-centre, so shapes scale with the sprite."""

    def __init__(
        self,
        draw: ImageDraw.ImageDraw,
        unit: float,
        origin: tuple[float, float],
        line: int,
        outline: RGB,
    ) -> None:
        self.draw = draw
        self.unit = unit
        self.origin = origin
        self.line = line
        self.outline = outline

    def _xy(self, x: float, y: float) -> tuple[float, float]:
        return (self.origin[0] + x * self.unit, self.origin[1] + y * self.unit)

    def ellipse(
        self, x0: float, y0: float, x1: float, y1: float, fill: RGB, lined: bool = True
    ) -> None:
        (a, b), (c, d) = self._xy(x0, y0), self._xy(x1, y1)
        width = self.line if lined else 0
        self.draw.ellipse(
            (a, b, c, d), fill=fill, outline=self.outline if lined else None, width=width
        )

    def poly(self, points: list[tuple[float, float]], fill: RGB, lined: bool = True) -> None:
        xy = [self._xy(x, y) for x, y in points]
        self.draw.polygon(
            xy, fill=fill, outline=self.outline if lined else None, width=self.line if lined else 0
        )

    def line_(self, points: list[tuple[float, float]], fill: RGB, width: float) -> None:
        self.draw.line(
            [self._xy(x, y) for x, y in points],
            fill=fill,
            width=max(1, round(width * self.unit)),
            joint="curve",
        )


def _body_y(style: TitleStyle, y: float) -> float:
    """Maps a body y designed for a 5.5-head figure onto this title's proportions."""
    return 1.0 + (y - 1.0) * (style.head_ratio - 1.0) / 4.5


def _draw_back_hair(pen: _Pen, who: CharacterDesign, style: TitleStyle) -> None:
    if who.hair_style == "long":
        pen.poly(
            [(-0.6, 0.4), (0.6, 0.4), (0.72, _body_y(style, 2.4)), (-0.72, _body_y(style, 2.4))],
            who.hair,
        )
    elif who.hair_style == "twintails":
        for side in (-1, 1):
            pen.ellipse(side * 0.55 - 0.22, 0.3, side * 0.55 + 0.22, _body_y(style, 2.1), who.hair)
    elif who.hair_style == "ponytail":
        pen.ellipse(0.25, 0.1, 0.85, _body_y(style, 1.9), who.hair)
    elif who.hair_style == "bob":
        pen.ellipse(-0.62, 0.0, 0.62, 1.15, who.hair)


def _draw_body(pen: _Pen, who: CharacterDesign, style: TitleStyle) -> None:
    y = lambda v: _body_y(style, v)  # noqa: E731 - local shorthand keeps the shape tables readable
    dark, darker = shade(who.outfit, 0.8), shade(who.outfit, 0.62)
    legs = who.skin if who.bottom == "skirt" else darker
    for side in (-1, 1):  # legs and shoes first: the clothes overlap their tops
        pen.poly([(side * 0.04, y(3.2)), (side * 0.3, y(3.2)), (side * 0.24, y(5.2)),
                  (side * 0.08, y(5.2))], legs)  # fmt: skip
        pen.ellipse(
            side * 0.16 - 0.13, y(5.1), side * 0.16 + 0.15, y(5.45), shade(who.outfit, 0.35)
        )
    for side in (-1, 1):  # arms, then hands
        pen.poly([(side * 0.36, y(1.3)), (side * 0.56, y(1.42)), (side * 0.58, y(3.0)),
                  (side * 0.42, y(3.0))], who.outfit)  # fmt: skip
        pen.ellipse(side * 0.5 - 0.09, y(2.92), side * 0.5 + 0.09, y(3.22), who.skin)
    pen.poly([(-0.1, 0.9), (0.1, 0.9), (0.1, y(1.35)), (-0.1, y(1.35))], who.skin)
    pen.poly([(-0.1, 1.0), (0.1, 1.0), (0.1, 1.12), (-0.1, 1.08)], shade(who.skin, 0.85),
             lined=False)  # fmt: skip  # chin shadow on the neck
    pen.poly([(-0.44, y(1.3)), (0.44, y(1.3)), (0.36, y(2.7)), (-0.36, y(2.7))], who.outfit)
    # Cel shadow down one side of the torso: the light always comes from the upper left.
    pen.poly([(0.18, y(1.35)), (0.42, y(1.35)), (0.35, y(2.65)), (0.14, y(2.65))], dark,
             lined=False)  # fmt: skip
    if who.bottom == "skirt":
        pen.poly([(-0.38, y(2.6)), (0.38, y(2.6)), (0.56, y(3.5)), (-0.56, y(3.5))], darker)
    else:
        pen.poly([(-0.36, y(2.6)), (0.36, y(2.6)), (0.33, y(3.3)), (-0.33, y(3.3))], darker)
    pen.poly([(-0.17, y(1.3)), (0.0, y(1.65)), (0.17, y(1.3))], (250, 250, 250))  # collar
    pen.poly([(-0.06, y(1.48)), (0.06, y(1.48)), (0.08, y(1.95)), (0.0, y(2.05)),
              (-0.08, y(1.95))], who.outfit_accent)  # fmt: skip


def _draw_head(pen: _Pen, style: TitleStyle, who: CharacterDesign) -> None:
    if style.head_shape == "round":
        pen.ellipse(-0.47, 0.05, 0.47, 1.02, who.skin)
    elif style.head_shape == "oval":
        pen.ellipse(-0.42, 0.0, 0.42, 1.08, who.skin)
    else:  # rounded cranium with a pointed chin, the classic anime jaw
        pen.poly([(-0.46, 0.45), (-0.4, 0.8), (0.0, 1.08), (0.4, 0.8), (0.46, 0.45)], who.skin)
        pen.ellipse(-0.46, 0.0, 0.46, 0.9, who.skin, lined=False)
        pen.ellipse(-0.46, 0.0, 0.46, 0.9, who.skin)
        pen.poly(
            [(-0.44, 0.5), (-0.38, 0.8), (0.0, 1.05), (0.38, 0.8), (0.44, 0.5)],
            who.skin,
            lined=False,
        )


def _draw_face(pen: _Pen, style: TitleStyle, who: CharacterDesign, mouth_open: bool) -> None:
    size = style.eye_size
    w, h = {"round": (0.15, 0.17), "tall": (0.13, 0.2), "narrow": (0.17, 0.11)}[style.eye_shape]
    w, h = w * size, h * size
    for side in (-1, 1):
        cx, cy = side * 0.2, 0.64
        # Anime eyes: no full outline, a heavy upper lash line, a big iris with a highlight.
        pen.ellipse(cx - w, cy - h, cx + w, cy + h, (255, 255, 255), lined=False)
        pen.ellipse(cx - w * 0.72, cy - h * 0.9, cx + w * 0.72, cy + h, who.eyes, lined=False)
        pen.ellipse(cx - w * 0.72, cy - h * 0.9, cx + w * 0.72, cy - h * 0.2,
                    shade(who.eyes, 0.6), lined=False)  # fmt: skip  # lid shadow
        pen.ellipse(cx - w * 0.32, cy - h * 0.35, cx + w * 0.32, cy + h * 0.45,
                    shade(who.eyes, 0.3), lined=False)  # fmt: skip  # pupil
        pen.ellipse(cx - w * 0.5, cy - h * 0.7, cx - w * 0.08, cy - h * 0.2, (255, 255, 255),
                    lined=False)  # fmt: skip  # highlight
        outer = cx + side * w * 1.15
        pen.line_([(cx - side * w, cy - h * 0.95), (cx, cy - h * 1.05), (outer, cy - h * 0.8)],
                  pen.outline, 0.04)  # fmt: skip  # upper lash line
        pen.line_([(cx - w * 0.6, cy + h * 1.02), (cx + w * 0.6, cy + h * 1.02)], pen.outline,
                  0.012)  # fmt: skip
        brow_y = cy - h - 0.1
        pen.line_([(cx - side * w * 0.8, brow_y + 0.01), (cx + side * w, brow_y - 0.01)],
                  shade(who.hair, 0.5), 0.022)  # fmt: skip
    pen.line_([(0.02, 0.77), (0.0, 0.8)], shade(who.skin, 0.7), 0.02)  # nose
    if mouth_open:
        pen.ellipse(-0.06, 0.85, 0.06, 0.94, (150, 50, 60))
    else:
        pen.line_([(-0.07, 0.88), (0.0, 0.895), (0.07, 0.88)], (120, 50, 50), 0.02)
    for side in (-1, 1):  # blush
        pen.ellipse(side * 0.3 - 0.07, 0.78, side * 0.3 + 0.07, 0.82, (255, 170, 170), lined=False)


def _bangs_hem(style: str) -> list[tuple[float, float]]:
    """The lower edge of the fringe, right temple to left; hair styles differ in its cut."""
    teeth, tip, valley = {"spiky": (7, 0.5, 0.3), "bob": (3, 0.42, 0.38), "short": (4, 0.46, 0.3),
                          "long": (5, 0.5, 0.32), "twintails": (5, 0.46, 0.34),
                          "ponytail": (3, 0.48, 0.28)}[style]  # fmt: skip
    hem = [(0.54, 0.78), (0.44, 0.42)]
    for k in range(teeth):
        x1 = 0.42 - 0.84 * (k + 1) / teeth
        x_tip = 0.42 - 0.84 * (k + 0.55) / teeth  # tips lean one way, like a combed fringe
        hem += [(x_tip, tip - 0.04 * (k % 2)), (x1, valley)]
    return hem + [(-0.44, 0.42), (-0.54, 0.78)]


def _draw_front_hair(pen: _Pen, who: CharacterDesign) -> None:
    if who.hair_style == "spiky":  # spikes first, so the cap hides their inner edges
        for k in range(5):
            x = -0.4 + 0.2 * k
            pen.poly([(x - 0.14, 0.2), (x + (k - 2) * 0.12, -0.22), (x + 0.14, 0.2)], who.hair)
    # One silhouette polygon: the skull's top arc, then the fringe, so no line crosses the forehead.
    arc = [(0.54 * math.cos(a), 0.46 + 0.52 * math.sin(a))
           for a in (math.pi + math.pi * k / 16 for k in range(17))]  # fmt: skip
    pen.poly(arc + _bangs_hem(who.hair_style), who.hair)
    pen.poly([(-0.34, 0.1), (-0.1, 0.02), (-0.02, 0.08), (-0.3, 0.18)], shade(who.hair, 1.3),
             lined=False)  # fmt: skip  # shine


def figure_heads(style: TitleStyle) -> float:
    """A sprite's height in head heights (the figure plus a margin for hair), for framing shots."""
    return _body_y(style, 5.45) + 0.3


@lru_cache(maxsize=32)
def character_sprite(
    style: TitleStyle,
    design: int,
    height_px: int,
    mouth_open: bool,
    mirrored: bool,
    rows: int | None = None,
) -> Image.Image:
    """One cast member as an RGBA sprite for a figure `height_px` tall, keeping only its top `rows`
    (a closeup shows the head, so the legs are never drawn); cached, so never modify the result."""
    if height_px < 8:
        raise ValueError(f"sprite height must be >= 8 px, got {height_px}")
    rows = height_px if rows is None else min(max(1, rows), height_px)
    who = style.cast[design]
    unit = height_px * _SUPERSAMPLE / figure_heads(style)
    width = 2 * max(1, round(unit))  # 2 heads wide, even so the downscale is exact
    image = Image.new("RGBA", (width, rows * _SUPERSAMPLE), (0, 0, 0, 0))
    # Line width follows the sprite's height so chibi figures do not get heavier lines.
    line = max(1, round(style.outline_weight * height_px * _SUPERSAMPLE / 900))
    # The origin sits a little below the top edge so spiky hair above y=0 stays on the sprite.
    pen = _Pen(ImageDraw.Draw(image), unit, (width / 2, 0.28 * unit), line, style.outline)
    _draw_back_hair(pen, who, style)
    _draw_body(pen, who, style)
    _draw_head(pen, style, who)
    _draw_front_hair(pen, who)
    _draw_face(pen, style, who, mouth_open)
    sprite = image.resize((width // _SUPERSAMPLE, rows), Image.Resampling.BOX)
    return sprite.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if mirrored else sprite
