"""How a non-square screenshot becomes the square network input.

Policies:
- ``resize`` (default): squash the whole frame to S x S. Nothing of the picture is lost and no
  synthetic border is added; the aspect distortion is the same for the indexed frames and for the
  query, so matching compares like with like. A 16:9 frame keeps all its content, which matters
  when a screenshot is cropped off-centre or shows subtitles and corner logos.
- ``pad``: letterbox to a square with black bars, keeping the aspect ratio. About 44% of a
  16:9 input becomes bars, so the network spends a large part of its resolution on nothing.
- ``center-crop``: the central S x S square of the shorter side. Loses the outer 22% on each
  side of a 16:9 frame; a query cropped to the left or right of the frame then shares little
  with its reference.

``resize`` is the default, by measurement (docs/calibration.md#fit-policy-resize). A big frame is
first shrunk by an integer factor (`Image.reduce`, fast) before the bilinear resample.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from PIL import Image

FitPolicy = Literal["resize", "pad", "center-crop"]
FIT_POLICIES: tuple[str, ...] = ("resize", "pad", "center-crop")
DEFAULT_FIT: FitPolicy = "resize"
# Box-filter shrink by a whole factor before the bilinear step (docs/calibration.md, fit policy).
_REDUCING_GAP = 1.0


def check_policy(policy: str) -> FitPolicy:
    if policy not in FIT_POLICIES:
        raise ValueError(f"unknown fit policy {policy!r}; valid: {', '.join(FIT_POLICIES)}")
    return policy  # type: ignore[return-value]


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB for the network; transparency is flattened on black, as a player would show it."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def fit_image(image: Image.Image, size: int, policy: str = DEFAULT_FIT) -> Image.Image:
    """Return an RGB `size` x `size` image made from `image` by `policy`."""
    check_policy(policy)
    if not isinstance(image, Image.Image):
        raise TypeError(f"expected a PIL image, got {type(image).__name__}")
    if size < 1:
        raise ValueError(f"size must be positive, got {size}")
    width, height = image.size
    if width < 1 or height < 1:
        raise ValueError(f"image has no pixels ({width}x{height})")
    image = to_rgb(image)
    if policy == "resize":
        return image.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=_REDUCING_GAP)
    if policy == "center-crop":
        side = min(width, height)
        left, top = (width - side) // 2, (height - side) // 2
        box = (left, top, left + side, top + side)
        return image.resize(
            (size, size), Image.Resampling.BILINEAR, box=box, reducing_gap=_REDUCING_GAP
        )
    scale = size / max(width, height)
    inner = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = image.resize(inner, Image.Resampling.BILINEAR, reducing_gap=_REDUCING_GAP)
    canvas = Image.new("RGB", (size, size))
    canvas.paste(resized, ((size - inner[0]) // 2, (size - inner[1]) // 2))
    return canvas


def fit_array(image: Image.Image, size: int, policy: str = DEFAULT_FIT) -> np.ndarray:
    """float32 (size, size, 3) RGB in 0..255, the layout every embedder's model takes."""
    return np.asarray(fit_image(image, size, policy), dtype=np.float32)


def fit_batch(images: list[Image.Image], size: int, policy: str = DEFAULT_FIT) -> np.ndarray:
    """float32 (n, size, size, 3); (0, size, size, 3) for an empty list."""
    batch = np.empty((len(images), size, size, 3), np.float32)
    for i, image in enumerate(images):
        batch[i] = fit_image(image, size, policy)
    return batch
