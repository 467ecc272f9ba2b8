"""Renders an invented episode's frame at any time: shot background, cast, camera move, subtitle."""

from __future__ import annotations

import math
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from synthetic.characters import character_sprite
from synthetic.scenes import PANORAMA_WIDTHS, location_panorama
from synthetic.shots import Shot, shot_at
from synthetic.titles import TitleStyle

_OVERSCAN = 1.3  # the shot canvas is this much larger than the frame, room for the camera to move
_MOUTH_HZ = 4.0


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    w, h = (int(v) for v in size)
    if w < 16 or h < 16 or w > 8192 or h > 8192:
        raise ValueError(f"frame size must be between 16 and 8192 px per side, got {size}")
    return w, h


def _canvas_size(size: tuple[int, int]) -> tuple[int, int]:
    return round(size[0] * _OVERSCAN), round(size[1] * _OVERSCAN)


@lru_cache(maxsize=8)
def _shot_background(style: TitleStyle, shot: Shot, canvas: tuple[int, int]) -> Image.Image:
    panorama = location_panorama(style, shot.location, canvas)
    left = round(shot.view * canvas[0] * (PANORAMA_WIDTHS - 1))
    return panorama.crop((left, 0, left + canvas[0], canvas[1]))


@lru_cache(maxsize=32)
def subtitle_sprite(style: TitleStyle, text: str, frame_height: int) -> Image.Image:
    """A subtitle line as an RGBA image in the title's text style; cached, do not modify."""
    sub = style.subtitle
    font = ImageFont.load_default(size=max(8, round(sub.size_frac * frame_height)))
    stroke = max(1, round(font.size * sub.stroke_frac))
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    pad = stroke + (round(font.size * 0.4) if sub.boxed else 0)
    image = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if sub.boxed:
        draw.rounded_rectangle(
            (0, 0, image.width - 1, image.height - 1), radius=pad, fill=(*sub.stroke, 150)
        )
    draw.text(
        (pad - left, pad - top),
        text,
        font=font,
        fill=(*sub.fill, 255),
        stroke_width=stroke,
        stroke_fill=(*sub.stroke, 255),
    )
    return image


def _lerp(a: float, b: float, u: float) -> float:
    return a + (b - a) * u


def _camera_box(shot: Shot, u: float, canvas: tuple[int, int]) -> tuple[float, float, float, float]:
    # Linear, like a rostrum camera sliding over background art: no frame of a shot stands still.
    cx = _lerp(shot.cam_from.cx, shot.cam_to.cx, u) * canvas[0]
    cy = _lerp(shot.cam_from.cy, shot.cam_to.cy, u) * canvas[1]
    zoom = _lerp(shot.cam_from.zoom, shot.cam_to.zoom, u)
    half_w, half_h = canvas[0] / (2 * zoom), canvas[1] / (2 * zoom)
    cx = min(max(cx, half_w), canvas[0] - half_w)
    cy = min(max(cy, half_h), canvas[1] - half_h)
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def _paste_actors(
    target: Image.Image,
    style: TitleStyle,
    shot: Shot,
    local_t: float,
    canvas_px: tuple[float, float],
    offset: tuple[int, int] = (0, 0),
) -> None:
    """Pastes the cast onto `target`, whose pixel (0, 0) is `offset` on a canvas of `canvas_px`."""
    cw, ch = canvas_px
    for actor in shot.actors:
        talking = actor.speaking and math.sin(2 * math.pi * _MOUTH_HZ * local_t + actor.phase) > 0
        height = max(8, round(actor.height * ch))
        # Only the part above the canvas bottom (plus the bob) is ever seen: skip drawing the rest.
        rows = math.ceil((1.0 - actor.top + 0.01) * ch)
        sprite = character_sprite(style, actor.design, height, talking, actor.mirrored, rows)
        # Idle motion: a slow breathing bob and sway, a few pixels at most.
        bob = 0.006 * ch * math.sin(2 * math.pi * 0.5 * local_t + actor.phase)
        sway = 0.004 * cw * math.sin(2 * math.pi * 0.23 * local_t + actor.phase)
        x = round(actor.x * cw - sprite.width / 2 + sway) - offset[0]
        y = round(actor.top * ch + bob) - offset[1]
        target.paste(sprite, (x, y), sprite)


@lru_cache(maxsize=8)
def _scaled_background(
    style: TitleStyle, shot: Shot, canvas: tuple[int, int], scale: float
) -> Image.Image:
    background = _shot_background(style, shot, canvas)
    size = (round(canvas[0] * scale), round(canvas[1] * scale))
    return background.resize(size, Image.Resampling.LANCZOS)


def _render_pan(
    style: TitleStyle, shot: Shot, local_t: float, size: tuple[int, int], canvas: tuple[int, int]
) -> Image.Image:
    """A fixed-zoom shot: scale its canvas once, then each frame is a crop plus the cast (fast)."""
    scale = shot.cam_from.zoom * size[0] / canvas[0]
    background = _scaled_background(style, shot, canvas, scale)
    box = _camera_box(shot, min(1.0, local_t / shot.duration), canvas)
    x = min(max(0, round(box[0] * scale)), background.width - size[0])
    y = min(max(0, round(box[1] * scale)), background.height - size[1])
    frame = background.crop((x, y, x + size[0], y + size[1]))
    _paste_actors(frame, style, shot, local_t, (canvas[0] * scale, canvas[1] * scale), (x, y))
    return frame


def _render_zoom(
    style: TitleStyle, shot: Shot, local_t: float, size: tuple[int, int], canvas: tuple[int, int]
) -> Image.Image:
    """A zooming shot: compose at canvas scale, then resample the camera window to the frame."""
    image = _shot_background(style, shot, canvas).copy()
    _paste_actors(image, style, shot, local_t, canvas)
    box = _camera_box(shot, min(1.0, local_t / shot.duration), canvas)
    return image.resize(size, Image.Resampling.BILINEAR, box=box)


def render_frame(
    style: TitleStyle, episode: int, t: float, size: tuple[int, int] = (640, 360)
) -> Image.Image:
    """The RGB frame at `t` seconds into `episode`; the same inputs always give the same pixels."""
    size = _check_size(size)
    shot = shot_at(style, episode, t)
    local_t = t - shot.start
    canvas = _canvas_size(size)
    zooming = shot.cam_from.zoom != shot.cam_to.zoom
    frame = (_render_zoom if zooming else _render_pan)(style, shot, local_t, size, canvas)
    if shot.subtitle:
        line = subtitle_sprite(style, shot.subtitle, size[1])
        x = (size[0] - line.width) // 2
        margin = round(0.05 * size[1])
        y = margin if style.subtitle.position == "top" else size[1] - margin - line.height
        frame.paste(line, (x, y), line)
    return frame
