"""Mapper: a decoded frame becomes a catalog record (pixel hash, WebP preview, colour palette)
and a vector."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import xxhash
from PIL import Image

from index.ingest.readers import SampledFrame
from index.query.colour import stored_colour
from index.query.rerank import FINE
from index.types import FrameRecord
from model.base import Embedder
from model.fit import to_rgb

# The re-rank's fine grid, the widest any picture check reads. WebP at this size is ~2 KB a
# generated frame against ~12.6 KB for the former 384 px JPEG (docs/compact.md).
THUMBNAIL_WIDTH = FINE[0]
THUMBNAIL_QUALITY = 60
# Mean preview bytes a source may take: the disk budget per frame holds on detailed real footage
# too, whose previews are re-encoded at a lower quality (docs/compact.md#previews-of-real-footage;
# 1,800 since the palettes: a frame row then packs 12 to a page, "Back under the budget").
PREVIEW_MEAN_BYTES = 1800
PREVIEW_MIN_QUALITY = 20
# A preview over the mean keeps a copy at this quality until its source is fitted: re-encoding
# from it is as good as from the pixels, in an eighth of the memory (docs/compact.md).
MASTER_QUALITY = 90
# WebP bytes fall about this share of the quality-60 size per quality step, from 60 down to 20.
_SHARE_PER_QUALITY = 0.012


class FrameMapper:
    """Records are made on the reader's thread, embeddings on the runner's: decode overlaps TF."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    @staticmethod
    def record(frame: SampledFrame) -> tuple[FrameRecord, bytes | None]:
        return make_record(frame)

    @staticmethod
    def fit_previews(
        records: list[FrameRecord], masters: Sequence[bytes | None]
    ) -> list[FrameRecord]:
        return fit_previews(records, masters)

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self.embedder.embed(images)


def make_record(frame: SampledFrame) -> tuple[FrameRecord, bytes | None]:
    """Pixel hash, preview and colour palette of a decoded frame, and for a preview over
    `PREVIEW_MEAN_BYTES` a finer copy that `fit_previews` may re-encode it from.

    The hash only finds exact repeats within one source, so it needs no cryptographic strength:
    128-bit XXH3 runs at memory speed (blake2b took 1 ms of a 640x360 frame; docs/serving.md).
    """
    image = frame.image
    pixel_hash = xxhash.xxh3_128_hexdigest(image.tobytes())
    # A video frame's preview was scaled while decoding, ten times cheaper (docs/serving.md).
    pixels = frame.preview if frame.preview is not None else preview_pixels(image)
    preview = _webp(pixels, THUMBNAIL_QUALITY)
    record = FrameRecord(
        frame.timestamp,
        pixel_hash,
        preview,
        start=frame.start,
        end=frame.end,
        colour=stored_colour(image),  # from the full frame: ~1 ms at 640 px (docs/titlehead.md)
    )
    master = _webp(pixels, MASTER_QUALITY) if len(preview) > PREVIEW_MEAN_BYTES else None
    return record, master


def encode_thumbnail(image: Image.Image, width: int = THUMBNAIL_WIDTH) -> bytes:
    """WebP at most `width` wide: the answer's picture, the flip check's and the re-rank's
    source, and what `index reembed` and training from the catalog read."""
    return _webp(preview_pixels(image, width), THUMBNAIL_QUALITY)


def preview_pixels(image: Image.Image, width: int = THUMBNAIL_WIDTH) -> Image.Image:
    """`image` as RGB at most `width` wide. Shrunk to twice the size, then 2x2-averaged: sampled
    as the re-rank's grid was from the former 384 px JPEG, which kept more exact frames than one
    bilinear step (docs/compact.md)."""
    if image.width > width:
        height = max(1, round(image.height * width / image.width))
        double = image.resize((2 * width, 2 * height), Image.Resampling.BILINEAR, reducing_gap=2.0)
        image = double.reduce(2)
    return to_rgb(image)


def fit_previews(
    records: list[FrameRecord],
    masters: Sequence[bytes | None],
    mean_bytes: int = PREVIEW_MEAN_BYTES,
) -> list[FrameRecord]:
    """A source's records with previews of `mean_bytes` on average at most: those over one
    byte level, set so that all of them cut to it fit, are re-encoded at a lower quality from
    their `masters` (`make_record`'s; the preview itself where there is none). The level is at
    least the mean, so only previews over it ever need a master. A flat source (most generated
    episodes measured) keeps its previews as they are; a detailed one loses detail in its
    busiest pictures first."""
    sizes = sorted(len(record.thumbnail) for record in records)
    if not sizes or sum(sizes) <= mean_bytes * len(sizes):
        return records
    level = _water_level(sizes, mean_bytes * len(sizes))
    fitted = []
    for record, master in zip(records, masters, strict=True):
        if len(record.thumbnail) > level:
            with Image.open(io.BytesIO(master or record.thumbnail)) as image:
                pixels = to_rgb(image)
            record = replace(record, thumbnail=_webp_within(pixels, level, len(record.thumbnail)))
        fitted.append(record)
    return fitted


def _water_level(ascending: list[int], total: int) -> int:
    """The byte cap at which the sizes, those above it cut to it, sum to `total` at most."""
    below = 0
    for index, size in enumerate(ascending):
        level = (total - below) / (len(ascending) - index)
        if level <= size:
            return max(1, math.floor(level))
        below += size
    return ascending[-1]


def _webp_within(image: Image.Image, max_bytes: int, size: int) -> bytes:
    """`image` as WebP of at most `max_bytes` (down to `PREVIEW_MIN_QUALITY`), given `size`,
    its bytes at `THUMBNAIL_QUALITY`: a jump to the quality it should fit at, then smaller
    steps down (one or two encodes)."""
    quality, data = THUMBNAIL_QUALITY, b""
    while (not data or len(data) > max_bytes) and quality > PREVIEW_MIN_QUALITY:
        over = (len(data) or size) - max_bytes
        quality -= max(1, math.ceil(over / (_SHARE_PER_QUALITY * size)))
        quality = max(PREVIEW_MIN_QUALITY, quality)
        data = _webp(image, quality)
    return data


def _webp(image: Image.Image, quality: int) -> bytes:
    """Method 5: half the time of 6 for ~1-4% more bytes (docs/serving.md#ingestion)."""
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=quality, method=5)
    return buffer.getvalue()


def picture_type(data: bytes) -> str:
    """The MIME type of a stored preview: WebP, or JPEG in a catalog older than schema 4."""
    with Image.open(io.BytesIO(data)) as image:
        return Image.MIME.get(image.format or "", "application/octet-stream")
