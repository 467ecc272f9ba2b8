"""Picture-level check that a first-pass hit shows the query as it is, not mirrored.

Pooled CNN features are nearly mirror-invariant, so a flipped screenshot finds the right title at
a wrong moment with a high similarity. A tiny grayscale signature is not: comparing the query's
signature with the best hit's stored thumbnail, as is and mirrored, tells a same-picture hit
(high direct agreement) from a flipped or merely similar one in well under a millisecond.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

# Small enough to ignore JPEG noise, subtitles and a few pixels of crop offset; large enough that
# a mirrored frame and a neighbouring moment of the same shot still differ.
SIGNATURE_SIZE = (32, 18)


def signature(image: Image.Image) -> np.ndarray:
    """Zero-mean, unit-norm grayscale thumbnail (SIGNATURE_SIZE), flattened; zeros when flat.

    Normalising makes the dot product of two signatures their normalised cross-correlation, so
    a tint or brightness change leaves it near 1.
    """
    grey = image.convert("L")
    factor = min(grey.width // (2 * SIGNATURE_SIZE[0]), grey.height // (2 * SIGNATURE_SIZE[1]))
    if factor > 1:  # box-reduce first: resizing a 1280 px view straight to 32 px is slower
        grey = grey.reduce(factor)
    small = grey.resize(SIGNATURE_SIZE, Image.Resampling.BILINEAR, reducing_gap=2.0)
    pixels = np.asarray(small, dtype=np.float32).ravel()
    pixels -= pixels.mean()
    norm = float(np.linalg.norm(pixels))
    return pixels / norm if norm > 1e-6 else pixels


def thumbnail_signature(jpeg: bytes) -> np.ndarray:
    """`signature` of a stored preview (WebP; an older catalog's JPEG at reduced DCT scale),
    a fraction of a ms: cheaper to decode than to store (576 B a frame, docs/compact.md)."""
    with Image.open(io.BytesIO(jpeg)) as image:
        image.draft("L", (2 * SIGNATURE_SIZE[0], 2 * SIGNATURE_SIZE[1]))
        return signature(image)


def agreement(query: np.ndarray, candidate: np.ndarray) -> tuple[float, float]:
    """(direct, mirrored) correlation of two signatures: the candidate as is and flipped."""
    grid = candidate.reshape(SIGNATURE_SIZE[1], SIGNATURE_SIZE[0])
    mirrored = grid[:, ::-1].ravel()
    return float(query @ candidate), float(query @ mirrored)
