"""Pictures of pictures: a phone photo of a screen, a frame in a window over another picture, and
stacks of ordinary edits. Each is simulated from its cause, not as a filter on the frame:

- `screen_photo`: the frame is shown on a screen (bezel, scan lines or the moire of a camera
  sampling the pixel grid), photographed at an angle in a room (perspective), with glare from a
  lamp, slightly out of focus, dim, and saved as a heavy JPEG;
- `picture_in_picture`: the frame scaled into a window over another picture (a reaction video,
  a stream overlay), with a border, a drop shadow or both, then re-encoded;
- `edit_stack`: 2-4 ordinary edits (`synthetic.perturb`) in random order, the way a meme is
  cropped, captioned, barred and re-encoded by successive uploaders. Its crop keeps 80-95% of the
  frame (a meme trim), not `crop70`'s 70%, which on its own is the hardest single edit.
"""

from __future__ import annotations

import io
import random

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from model.fit import to_rgb
from synthetic.perturb import PERTURBATIONS, Perturbation, crop_share
from synthetic.render import render_frame
from synthetic.titles import make_titles


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _room(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A room behind the screen: a wall, a floor or stand, and a few pieces of furniture."""
    width, height = size
    wall = tuple(rng.randrange(60, 200) for _ in range(3))
    room = Image.new("RGB", size, wall)
    draw = ImageDraw.Draw(room)
    floor_y = round(height * rng.uniform(0.7, 0.9))
    draw.rectangle(
        (0, floor_y, width, height), fill=tuple(rng.randrange(30, 140) for _ in range(3))
    )
    for _ in range(rng.randint(2, 5)):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(width // 10, width // 3), rng.randrange(height // 10, height // 2)
        draw.rectangle((x, y, x + w, y + h), fill=tuple(rng.randrange(20, 230) for _ in range(3)))
    return room.filter(ImageFilter.GaussianBlur(2))


def _screen_pattern(size: tuple[int, int], rng: random.Random) -> np.ndarray:
    """Brightness factor of the screen as the camera sees it: scan lines or a moire beat."""
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    if rng.random() < 0.5:  # scan lines: every few rows darker
        period, depth = rng.uniform(2.5, 4.5), rng.uniform(0.04, 0.12)
        wave = np.sin(2 * np.pi * y / period)
    else:  # moire: a slow beat between two grids at a slight angle
        angle = rng.uniform(-0.6, 0.6)
        period, depth = rng.uniform(6.0, 24.0), rng.uniform(0.04, 0.10)
        wave = np.sin(2 * np.pi * (x * np.sin(angle) + y * np.cos(angle)) / period)
    return 1.0 - depth * (0.5 + 0.5 * wave)


def screen_photo_with_corners(
    image: Image.Image, rng: random.Random
) -> tuple[Image.Image, np.ndarray]:
    """The frame on a screen, photographed at an angle: bezel, room, moire, glare, blur, dim, JPEG;
    and the frame's corners in the photo (top-left, top-right, bottom-right, bottom-left)."""
    frame = np.asarray(to_rgb(image), dtype=np.float32)
    h, w = frame.shape[:2]
    frame = frame * _screen_pattern((w, h), rng)[..., None]
    bezel = max(2, round(w * rng.uniform(0.02, 0.06)))
    shade = rng.randrange(5, 45)
    screen = np.full((h + 2 * bezel, w + 2 * bezel, 3), shade, dtype=np.float32)
    screen[bezel : bezel + h, bezel : bezel + w] = frame
    # A phone photo holds more pixels than the frame: here 1.5x its width, downscaled from the
    # camera's; the screen fills 60-85% of that width, seen at an angle.
    out_w, out_h = round(w * 1.5), round(h * 1.5)
    sw = out_w * rng.uniform(0.75, 0.92)
    sh = sw * screen.shape[0] / screen.shape[1]
    cx = out_w / 2 + rng.uniform(-0.08, 0.08) * out_w
    cy = out_h / 2 + rng.uniform(-0.06, 0.06) * out_h
    near = rng.uniform(-0.12, 0.12)  # yaw: one side nearer, so taller
    tilt = rng.uniform(-0.06, 0.06)  # pitch: top narrower or wider than the bottom
    corners = np.float32(
        [
            [cx - sw / 2 * (1 - tilt), cy - sh / 2 * (1 - near)],
            [cx + sw / 2 * (1 - tilt), cy - sh / 2 * (1 + near)],
            [cx + sw / 2 * (1 + tilt), cy + sh / 2 * (1 + near)],
            [cx - sw / 2 * (1 + tilt), cy + sh / 2 * (1 - near)],
        ]
    )
    roll = np.deg2rad(rng.uniform(-3, 3))
    rotation = np.float32([[np.cos(roll), -np.sin(roll)], [np.sin(roll), np.cos(roll)]])
    corners = (corners - [cx, cy]) @ rotation.T + [cx, cy]
    corners += np.float32([[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(4)]) * w * 0.015
    # the whole screen stays in the picture, 2% from its edges
    margin = np.float32([out_w, out_h]) * 0.02
    low, high = corners.min(axis=0) - margin, corners.max(axis=0) + margin - [out_w, out_h]
    corners -= np.minimum(low, 0) + np.maximum(high, 0)
    sh_, sw_ = screen.shape[:2]
    source = np.float32([[0, 0], [sw_, 0], [sw_, sh_], [0, sh_]])
    matrix = cv2.getPerspectiveTransform(source, corners.astype(np.float32))
    photo = np.asarray(_room((out_w, out_h), rng), dtype=np.float32).copy()
    cv2.warpPerspective(
        screen, matrix, (out_w, out_h), dst=photo, flags=cv2.INTER_AREA,
        borderMode=cv2.BORDER_TRANSPARENT,
    )  # fmt: skip
    # Glare: a lamp's reflection, a soft bright blob somewhere on the screen.
    gx, gy = corners.mean(axis=0) + [rng.uniform(-0.3, 0.3) * sw, rng.uniform(-0.3, 0.3) * sh]
    radius = rng.uniform(0.1, 0.3) * sw
    y, x = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    glare = rng.uniform(20, 70) * np.exp(-((x - gx) ** 2 + (y - gy) ** 2) / (2 * radius**2))
    photo = photo * rng.uniform(0.65, 0.95) + glare[..., None]  # dim exposure, then the glare
    cast = np.float32([rng.uniform(0.9, 1.1) for _ in range(3)])  # the camera's white balance
    photo = np.clip(photo * cast, 0, 255).astype(np.uint8)
    blurred = Image.fromarray(photo).filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.0)))
    inner = np.float32(
        [[bezel, bezel], [bezel + w, bezel], [bezel + w, bezel + h], [bezel, bezel + h]]
    )
    return _jpeg(blurred, rng.randint(30, 50)), cv2.perspectiveTransform(inner[None], matrix)[0]


def screen_photo(image: Image.Image, rng: random.Random) -> Image.Image:
    """A phone photo of the frame on a screen (`screen_photo_with_corners`)."""
    return screen_photo_with_corners(image, rng)[0]


def picture_in_picture_with_box(
    image: Image.Image, rng: random.Random
) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The frame scaled into a window over another picture, with a border and/or drop shadow;
    and the window's (left, top, right, bottom)."""
    frame = to_rgb(image)
    w, h = frame.size
    other = make_titles(1, seed=rng.randrange(10**6))[0]  # a title never catalogued
    # The outer picture is a larger video (a 1080p stream over a 720p episode): 1.6-2x the frame.
    zoom = rng.uniform(1.6, 2.0)
    w, h = round(w * zoom), round(h * zoom)
    canvas = render_frame(other, 1, rng.uniform(0, 30), (w, h))
    scale = rng.uniform(0.45, 0.7)
    small = frame.resize((round(w * scale), round(h * scale)), Image.Resampling.BILINEAR)
    x = rng.randrange(round(w * 0.04), w - small.width - round(w * 0.04))
    y = rng.randrange(round(h * 0.04), h - small.height - round(h * 0.04))
    style = rng.choice(("border", "shadow", "both"))
    if style in ("shadow", "both"):
        offset, blur = rng.randint(3, 10), rng.uniform(2.0, 6.0)
        shadow = Image.new("L", (w, h), 0)
        ImageDraw.Draw(shadow).rectangle(
            (x + offset, y + offset, x + small.width + offset, y + small.height + offset),
            fill=rng.randrange(120, 220),
        )
        shadow = shadow.filter(ImageFilter.GaussianBlur(blur))
        canvas = Image.composite(Image.new("RGB", (w, h), (0, 0, 0)), canvas, shadow)
    if style in ("border", "both"):
        line = rng.randint(2, 6)
        colour = rng.choice(((255, 255, 255), (20, 20, 20), (230, 60, 60), (60, 160, 240)))
        ImageDraw.Draw(canvas).rectangle(
            (x - line, y - line, x + small.width + line - 1, y + small.height + line - 1),
            fill=colour,
        )
    canvas.paste(small, (x, y))
    return _jpeg(canvas, rng.randint(50, 85)), (x, y, x + small.width, y + small.height)


def picture_in_picture(image: Image.Image, rng: random.Random) -> Image.Image:
    """The frame in a window over another picture (`picture_in_picture_with_box`)."""
    return picture_in_picture_with_box(image, rng)[0]


def crop_trim(image: Image.Image, rng: random.Random) -> Image.Image:
    """A meme trim: a crop keeping 80-95% of the area at the original aspect ratio."""
    return crop_share(image, rng.uniform(0.80, 0.95), rng)


# The single edits a stack draws from: every ordinary one but the 70% crop (a meme's crop is
# milder: `crop_trim`) and the player window (a whole page, not an edit of the frame).
STACKABLE: dict[str, Perturbation] = {
    "crop_trim": crop_trim,
    **{name: fn for name, fn in PERTURBATIONS.items() if name not in ("crop70", "player_window")},
}


def edit_stack(image: Image.Image, rng: random.Random) -> Image.Image:
    """2-4 distinct ordinary edits in random order."""
    names = rng.sample(sorted(STACKABLE), rng.randint(2, 4))
    for name in names:
        image = STACKABLE[name](image, rng)
    return to_rgb(image)


PICTURES: dict[str, Perturbation] = {
    "screen_photo": screen_photo,
    "picture_in_picture": picture_in_picture,
    "edit_stack": edit_stack,
}
