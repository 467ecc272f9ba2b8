"""Mapper: a decoded frame becomes a catalog record (pixel hash, JPEG thumbnail) and a vector."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import xxhash
from PIL import Image

from index.ingest.readers import SampledFrame
from index.types import FrameRecord
from model.base import Embedder
from model.fit import to_rgb

THUMBNAIL_WIDTH = 384
THUMBNAIL_QUALITY = 85


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
    """Pixel hash and JPEG thumbnail of a decoded frame.

    The hash only finds exact repeats within one source, so it needs no cryptographic strength:
    128-bit XXH3 runs at memory speed (blake2b took 1 ms of a 640x360 frame; docs/serving.md).
    """
    image = frame.image
    pixel_hash = xxhash.xxh3_128_hexdigest(image.tobytes())
    return FrameRecord(
        frame.timestamp, pixel_hash, encode_thumbnail(image), start=frame.start, end=frame.end
    )


def encode_thumbnail(image: Image.Image, width: int = THUMBNAIL_WIDTH) -> bytes:
    """JPEG at most `width` wide: enough for answers, the flip check and `index reembed`."""
    if image.width > width:
        height = max(1, round(image.height * width / image.width))
        image = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
    buffer = io.BytesIO()
    to_rgb(image).save(buffer, "JPEG", quality=THUMBNAIL_QUALITY, optimize=False)
    return buffer.getvalue()
