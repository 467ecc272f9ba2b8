"""The frames' colour histograms as stored: a zstd frame of their bytes, older raw rows still read.

A palette (`index.query.colour`) is two unit-norm histograms at one byte a bin, 216 bytes, a
third of them empty bins: zstd keeps it in ~160 on real footage, which is what brings a frame
of detailed footage under the 4 KB disk budget (docs/compact.md, "Palettes compressed"). Rows
written raw before stay as they are; no raw row starts with zstd's magic bytes, since its first
two bins (0x28, 0xB5: 40 and 181 of 255) and the fourth (0xFD: 253) cannot lie in one unit-norm
histogram (40^2 + 181^2 + 253^2 > 255^2).
"""

from __future__ import annotations

import zstandard

from index.store.vector_codec import ZSTD_MAGIC

_LEVEL = 19  # a palette is 216 bytes: the slowest level still takes microseconds


def pack_colour(raw: bytes) -> bytes:
    """A palette's bytes as stored."""
    compressor = zstandard.ZstdCompressor(
        level=_LEVEL, write_checksum=False, write_content_size=True, write_dict_id=False
    )
    return compressor.compress(raw)


def unpack_colour(stored: bytes) -> bytes:
    """A palette's bytes as computed, from a stored row of either form."""
    if stored[:4] != ZSTD_MAGIC:
        return stored
    return zstandard.ZstdDecompressor().decompress(stored)
