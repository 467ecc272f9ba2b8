"""How real screenshots differ from reference frames: crops, bars, mirroring, JPEG, players."""

from __future__ import annotations

import io
import random
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageEnhance, ImageFont

from model.fit import to_rgb

Perturbation = Callable[[Image.Image, random.Random], Image.Image]

_WORDS = ("episode", "season", "watch", "next", "free", "sub", "dub", "stream", "new", "the", "of")


def crop70(image: Image.Image, rng: random.Random) -> Image.Image:
    """A random crop keeping 70% of the area at the original aspect ratio."""
    return crop_share(image, 0.7, rng)


def crop_any(image: Image.Image, rng: random.Random) -> Image.Image:
    """A crop of any size, keeping 55-97% of the area: a user's crop is rarely 70% (measured
    beside `crop70` in bench/robustness.py; not in `PERTURBATIONS`, which training's
    augmentation and the edit stacks draw from)."""
    return crop_share(image, rng.uniform(0.55, 0.97), rng)


def crop_share(image: Image.Image, share: float, rng: random.Random) -> Image.Image:
    """A random crop keeping `share` of the area at the original aspect ratio."""
    image = to_rgb(image)
    w, h = image.size
    side = share**0.5
    cw, ch = max(1, round(w * side)), max(1, round(h * side))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    return image.crop((x, y, x + cw, y + ch))


def _bars(image: Image.Image, canvas: tuple[int, int], rng: random.Random) -> Image.Image:
    shade = rng.choice((0, 0, 8, 16))  # bars are rarely pure black after re-encoding
    out = Image.new("RGB", canvas, (shade, shade, shade))
    out.paste(to_rgb(image), ((canvas[0] - image.width) // 2, (canvas[1] - image.height) // 2))
    return out


def letterbox(image: Image.Image, rng: random.Random) -> Image.Image:
    """Bars above and below, as when a 16:9 frame is shown on a 4:3 (or taller) screen."""
    aspect = rng.choice((4 / 3, 4 / 3, 1.0, 3 / 2))
    height = max(image.height + 2, round(image.width / aspect))
    return _bars(image, (image.width, height), rng)


def pillarbox(image: Image.Image, rng: random.Random) -> Image.Image:
    """Bars left and right, as when a frame is shown on a wider screen than it was made for."""
    widen = rng.uniform(1.2, 1.4)
    return _bars(image, (max(image.width + 2, round(image.width * widen)), image.height), rng)


def flip(image: Image.Image, rng: random.Random) -> Image.Image:
    """Horizontal mirror: re-uploads flip frames to dodge matching."""
    return to_rgb(image).transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, size))


def _phrase(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words)).capitalize()


def subtitle(image: Image.Image, rng: random.Random) -> Image.Image:
    """Burns a new subtitle line in near the bottom, in a random fan-sub style."""
    image = to_rgb(image).copy()
    w, h = image.size
    font = _font(round(h * rng.uniform(0.05, 0.08)))
    text = _phrase(rng, rng.randint(3, 7))
    stroke = max(1, font.size // 10)
    left, top, right, bottom = ImageDraw.Draw(image).textbbox(
        (0, 0), text, font=font, stroke_width=stroke
    )
    x = (w - (right - left)) // 2 - left
    y = round(h * rng.uniform(0.78, 0.86)) - top
    fill = rng.choice(((255, 255, 255), (255, 255, 100), (230, 230, 255)))
    ImageDraw.Draw(image).text(
        (x, y), text, font=font, fill=fill, stroke_width=stroke, stroke_fill=(0, 0, 0)
    )
    return image


def jpeg25(image: Image.Image, rng: random.Random) -> Image.Image:
    """Heavy JPEG re-compression (quality 25): blocking and colour bleeding."""
    buffer = io.BytesIO()
    to_rgb(image).save(buffer, format="JPEG", quality=25)
    buffer.seek(0)
    return to_rgb(Image.open(buffer))


def downscale240(image: Image.Image, rng: random.Random) -> Image.Image:
    """Down to 240 px high, the size of a small preview or an old upload."""
    image = to_rgb(image)
    width = max(1, round(image.width * 240 / image.height))
    return image.resize((width, 240), Image.Resampling.BILINEAR)


def tint(image: Image.Image, rng: random.Random) -> Image.Image:
    """A colour cast and a brightness shift, like a different display or a night filter."""
    image = to_rgb(image)
    gains = [rng.uniform(0.8, 1.2) for _ in range(3)]
    channels = [
        band.point(lambda v, g=g: min(255, round(v * g)))
        for band, g in zip(image.split(), gains, strict=True)
    ]
    image = Image.merge("RGB", channels)
    return ImageEnhance.Brightness(image).enhance(rng.uniform(0.75, 1.25))


def player_window_with_box(
    image: Image.Image, rng: random.Random
) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The frame inside a fake browser video page, and the video's (left, top, right, bottom)."""
    image = to_rgb(image)
    w, h = image.size
    dark = rng.random() < 0.6
    page = (24, 24, 28) if dark else (245, 245, 245)
    ink = (220, 220, 225) if dark else (40, 40, 45)
    muted = (90, 90, 100) if dark else (180, 180, 185)
    # Proportions chosen so the video covers about 50-65% of the screenshot.
    chrome_h = round(h * rng.uniform(0.08, 0.12))
    margin = round(w * rng.uniform(0.015, 0.04))
    controls_h = max(14, round(h * 0.06))
    info_h = round(h * rng.uniform(0.08, 0.14))
    side_w = round(w * rng.uniform(0.18, 0.32))
    width = margin + w + margin + side_w + margin
    height = chrome_h + margin + h + controls_h + info_h
    out = Image.new("RGB", (width, height), page)
    draw = ImageDraw.Draw(out)
    # Browser chrome: tab strip, address bar, a couple of icons.
    draw.rectangle((0, 0, width, chrome_h), fill=(53, 54, 58) if dark else (222, 225, 230))
    draw.rounded_rectangle(
        (margin, chrome_h * 0.08, margin + w * 0.3, chrome_h * 0.45), radius=6, fill=page
    )
    draw.rounded_rectangle(
        (margin * 2, chrome_h * 0.55, width - margin * 4, chrome_h * 0.9),
        radius=chrome_h // 6,
        fill=(32, 33, 36) if dark else (255, 255, 255),
    )
    small = _font(max(8, round(chrome_h * 0.2)))
    draw.text(
        (margin * 3, chrome_h * 0.6),
        "https://video.example/watch?v=" + str(rng.randrange(10**8)),
        font=small,
        fill=muted,
    )
    top = chrome_h + margin
    box = (margin, top, margin + w, top + h)
    out.paste(image, box[:2])
    # Player controls: bar, progress, play triangle, time.
    bar_top = top + h
    draw.rectangle((margin, bar_top, margin + w, bar_top + controls_h), fill=(15, 15, 15))
    progress = rng.uniform(0.05, 0.95)
    draw.rectangle((margin, bar_top, margin + w, bar_top + 4), fill=(90, 90, 90))
    draw.rectangle((margin, bar_top, margin + w * progress, bar_top + 4), fill=(230, 40, 40))
    cy, tri = bar_top + 4 + (controls_h - 4) / 2, (controls_h - 4) * 0.35
    draw.polygon(
        [(margin + 12, cy - tri), (margin + 12, cy + tri), (margin + 12 + 1.7 * tri, cy)],
        fill=(240, 240, 240),
    )
    draw.text(
        (margin + 20 + 2 * tri, cy - tri),
        f"{rng.randint(0, 23)}:{rng.randint(0, 59):02d} / 24:00",
        font=_font(round(controls_h * 0.35)),
        fill=(230, 230, 230),
    )
    # Title and channel text under the player.
    title_font = _font(round(max(info_h * 0.25, h * 0.04)))
    draw.text(
        (margin, bar_top + controls_h + info_h * 0.15), _phrase(rng, 6), font=title_font, fill=ink
    )
    draw.ellipse(
        (
            margin,
            bar_top + controls_h + info_h * 0.5,
            margin + info_h * 0.35,
            bar_top + controls_h + info_h * 0.85,
        ),
        fill=muted,
    )
    draw.text(
        (margin + info_h * 0.45, bar_top + controls_h + info_h * 0.55),
        _phrase(rng, 2),
        font=small,
        fill=muted,
    )
    # Side panel: a column of recommended videos, thumbnail plus two text lines.
    side_x = margin * 2 + w
    thumb_w, thumb_h = round(side_w * 0.45), round(side_w * 0.45 * 9 / 16)
    y = top
    while y + thumb_h < height - margin:
        colors = [tuple(rng.randrange(40, 230) for _ in range(3)) for _ in range(2)]
        draw.rectangle((side_x, y, side_x + thumb_w, y + thumb_h), fill=colors[0])
        draw.ellipse(
            (side_x + thumb_w * 0.3, y + thumb_h * 0.2, side_x + thumb_w * 0.7, y + thumb_h * 0.9),
            fill=colors[1],
        )
        draw.text((side_x + thumb_w + 8, y + 2), _phrase(rng, 3), font=small, fill=ink)
        draw.text(
            (side_x + thumb_w + 8, y + thumb_h * 0.5), _phrase(rng, 2), font=small, fill=muted
        )
        y += thumb_h + margin // 2 + 4
    return out, box


def player_window(image: Image.Image, rng: random.Random) -> Image.Image:
    """The frame in a screenshot of a browser video page (video ~50-65% of the area)."""
    return player_window_with_box(image, rng)[0]


PERTURBATIONS: dict[str, Perturbation] = {
    "crop70": crop70,
    "letterbox": letterbox,
    "pillarbox": pillarbox,
    "flip": flip,
    "subtitle": subtitle,
    "jpeg25": jpeg25,
    "downscale240": downscale240,
    "tint": tint,
    "player_window": player_window,
}


def apply_perturbations(
    image: Image.Image, names: list[str] | tuple[str, ...], rng: random.Random
) -> Image.Image:
    """Applies the named perturbations in order; unknown names fail with the list of known ones."""
    unknown = [n for n in names if n not in PERTURBATIONS]
    if unknown:
        raise KeyError(f"unknown perturbation(s) {unknown}; known: {sorted(PERTURBATIONS)}")
    for name in names:
        image = PERTURBATIONS[name](image, rng)
    return image
