"""The catalog's vectors as stored: int8 codes in a zstd frame, and the older forms still read.

The catalog keeps every dimension of each unit vector (rebuilds, the re-score of the index's
short list, the title head and re-embeds read them), as int8 codes (symmetric, the largest
component at +-127: a cosine moves by under 0.002, docs/compact.md). A unit vector is its
codes divided by their length, so no scale is stored. zstd (level 12) keeps Lite0's 1,280 codes
in ~710 bytes and inflates a query's 200-row short list 4x faster than zlib did (docs/serving.md,
"The re-score of the short list"). Older rows stay readable side by
side in one catalog: a float32 scale then the deflated codes (schema 4 before zstd), and plain
float32 vectors (before schema 4); `index compact` rewrites both.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import zstandard

ZSTD_LEVEL = 12  # ~8% smaller than zlib's level 6 on Lite0 codes; levels 12-19 differ by 0.6%
# Every zstd frame starts with this; a deflated row starts with its float32 scale, and these
# bytes read as a float32 are negative (-1.5e37), which a scale never is.
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def pack_vectors(vectors: np.ndarray) -> list[bytes]:
    """Unit vectors as stored: int8 codes in a zstd frame (~0.7 KB for Lite0's 1280, against
    5 KB of float32). Never exactly 4 x dim bytes long, which is how a float32 vector is told
    apart (a trailing byte the decoder ignores pads the rare frame of that length)."""
    data = np.asarray(vectors, dtype=np.float32)
    scales = np.maximum(np.abs(data).max(axis=1, initial=0.0), 1e-12) / 127.0
    codes = np.rint(data / scales[:, None]).clip(-127, 127).astype(np.int8)
    # One compressor per call: zstandard's contexts are not for concurrent use.
    compressor = zstandard.ZstdCompressor(
        level=ZSTD_LEVEL, write_checksum=False, write_content_size=True, write_dict_id=False
    )
    blobs = [compressor.compress(code.tobytes()) for code in codes]
    wide = 4 * data.shape[1]
    return [blob + b"\0" if len(blob) == wide else blob for blob in blobs]


def quantized(vectors: np.ndarray) -> np.ndarray:
    """`vectors` as the catalog gives them back: the store indexes these, so an index rebuilt
    from the catalog answers exactly as the one that took the adds."""
    rows = [(0, blob) for blob in pack_vectors(vectors)]
    return unpack_vectors(rows, np.asarray(vectors).shape[1])[1]


def unpack_vectors(rows: Sequence[tuple], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids, unit float32 vectors) of stored rows, whichever of the three forms each is in.

    All the rows' codes are joined and converted at once: per-row numpy calls cost more than
    the conversion itself on a 200-row short list."""
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    vectors = np.empty((len(rows), dim), dtype=np.float32)
    wide, coded = [], []
    for i, row in enumerate(rows):  # (id, vector, any further columns)
        (wide if len(row[1]) == 4 * dim else coded).append(i)
    if wide:
        blob = b"".join(rows[i][1] for i in wide)
        vectors[wide] = np.frombuffer(blob, dtype="<f4").reshape(len(wide), dim)
    if coded:
        vectors[coded] = _unit(_codes([rows[i][1] for i in coded]), dim)
    return ids, vectors


def _codes(blobs: list[bytes]) -> bytes:
    decompressor = zstandard.ZstdDecompressor()
    return b"".join(
        decompressor.decompress(blob)
        if blob[:4] == ZSTD_MAGIC
        # A deflated row: its scale (4 bytes) is not needed to find the unit vector; a
        # decompress object ignores the pad byte after the stream.
        else zlib.decompressobj().decompress(blob[4:])
        for blob in blobs
    )


def _unit(codes: bytes, dim: int) -> np.ndarray:
    """int8 codes to unit float32 rows; the squared lengths are summed exactly in int32."""
    values = np.frombuffer(codes, dtype=np.int8).reshape(-1, dim)
    squares = np.einsum("ij,ij->i", values, values, dtype=np.int32)
    unit = values.astype(np.float32)
    unit *= (1.0 / np.sqrt(np.maximum(squares, 1).astype(np.float32)))[:, None]
    return unit
