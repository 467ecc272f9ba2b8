"""Mapper: a decoded frame becomes a catalog record (pixel hash, WebP preview) and a vector."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import xxhash
from PIL import Image

from index.ingest.readers import SampledFrame
from index.query.rerank import FINE
from index.types import FrameRecord
from model.base import Embedder
from model.fit import to_rgb

# The re-rank's fine grid, the widest any picture check reads. WebP at this size is ~2.5 KB a
# 1280x720 frame against ~12.6 KB for the former 384 px JPEG (docs/compact.md).
THUMBNAIL_WIDTH = FINE[0]
THUMBNAIL_QUALITY = 60


class FrameMapper:
    """Records are made on the reader's thread, embeddings on the runner's: decode overlaps TF."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    @staticmethod
    def record(frame: SampledFrame) -> FrameRecord:
        return make_record(frame)

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self.embedder.embed(images)


def make_record(frame: SampledFrame) -> FrameRecord:
    """Pixel hash and preview of a decoded frame.

    The hash only finds exact repeats within one source, so it needs no cryptographic strength:
    128-bit XXH3 runs at memory speed (blake2b took 1 ms of a 640x360 frame; docs/serving.md).
    """
    image = frame.image
    pixel_hash = xxhash.xxh3_128_hexdigest(image.tobytes())
    return FrameRecord(
        frame.timestamp, pixel_hash, encode_thumbnail(image), start=frame.start, end=frame.end
    )


def encode_thumbnail(image: Image.Image, width: int = THUMBNAIL_WIDTH) -> bytes:
    """WebP at most `width` wide: the answer's picture, the flip check's and the re-rank's
    source, and what `index reembed` and training from the catalog read. Shrunk to twice the
    size, then 2x2-averaged: sampled as the re-rank's grid was from the former 384 px JPEG, which
    kept more exact frames than one bilinear step (docs/compact.md)."""
    if image.width > width:
        height = max(1, round(image.height * width / image.width))
        double = image.resize((2 * width, 2 * height), Image.Resampling.BILINEAR, reducing_gap=2.0)
        image = double.reduce(2)
    buffer = io.BytesIO()
    to_rgb(image).save(buffer, "WEBP", quality=THUMBNAIL_QUALITY, method=6)
    return buffer.getvalue()


def picture_type(data: bytes) -> str:
    """The MIME type of a stored preview: WebP, or JPEG in a catalog older than schema 4."""
    with Image.open(io.BytesIO(data)) as image:
        return Image.MIME.get(image.format or "", "application/octet-stream")
