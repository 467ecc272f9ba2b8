"""A frame's palette as a small colour histogram: title evidence the pooled embedding blurs.

A title keeps its palette across episodes (skies, walls, cast colours), while the backbone's
pooled features mostly describe what is drawn. So the title head (`index.query.titlehead`)
reads a hue x saturation x value histogram beside the embedding, and tells titles outside the
catalog by how close the query's palette comes to any frame of the guessed title
(docs/titlehead.md). It costs about a millisecond per picture and needs no model: the catalog's
side is computed from the stored thumbnails.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
from PIL import Image

from model.fit import to_rgb

HUES, SATURATIONS, VALUES = 12, 3, 3
COLOUR_DIM = HUES * SATURATIONS * VALUES
_SIZE = (96, 54)  # pixels counted: a histogram needs no detail, and a JPEG decodes this small fast


def colour_histogram(image: Image.Image) -> np.ndarray:
    """float32 (COLOUR_DIM,): square roots of the pixel shares per HSV bin (unit L2 norm), so
    a dot product of two is their Bhattacharyya coefficient."""
    small = to_rgb(image).resize(_SIZE, Image.Resampling.BILINEAR, reducing_gap=2.0)
    hsv = np.asarray(small.convert("HSV"), dtype=np.int32)
    bins = (
        (hsv[..., 0] * HUES // 256) * SATURATIONS * VALUES
        + (hsv[..., 1] * SATURATIONS // 256) * VALUES
        + hsv[..., 2] * VALUES // 256
    )
    counts = np.bincount(bins.ravel(), minlength=COLOUR_DIM).astype(np.float32)
    return np.sqrt(counts / counts.sum())


def thumbnail_colours(thumbnails: Iterable[bytes]) -> np.ndarray:
    """(n, COLOUR_DIM) histograms of JPEG thumbnails, decoded at reduced size (`Image.draft`)."""
    rows = []
    for data in thumbnails:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", _SIZE)
            rows.append(colour_histogram(image))
    return np.stack(rows) if rows else np.zeros((0, COLOUR_DIM), np.float32)
