"""Helpers for the frame-store tests: records, real JPEG thumbnails and clustered vectors."""

from __future__ import annotations

import io
import sqlite3
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from index.ingest.mapper import encode_thumbnail
from index.query.colour import stored_colour
from index.types import FrameRecord, SourceRecord


def jpeg(seed: int, size: int = 16) -> bytes:
    """A small real JPEG whose pixels depend on `seed`."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def frames(count: int, prefix: str, *, start: float = 0.0) -> list[FrameRecord]:
    return [
        FrameRecord(
            timestamp=start + i,
            content_hash=f"{prefix}-{i}",
            thumbnail=jpeg(zlib.crc32(prefix.encode()) % 997 + i),
        )
        for i in range(count)
    ]


def frames_of(images: list[Image.Image], prefix: str, *, colours: bool = True) -> list[FrameRecord]:
    """Records whose thumbnails show `images` with their colour histograms, as ingestion stores
    them (the title head reads the colours); `colours=False`: as a catalog before schema 5."""
    return [
        FrameRecord(
            timestamp=float(i),
            content_hash=f"{prefix}-{i}",
            thumbnail=encode_thumbnail(im),
            colour=stored_colour(im) if colours else None,
        )
        for i, im in enumerate(images)
    ]


def source(title: str, content_hash: str, episode: str | None = "1") -> SourceRecord:
    return SourceRecord(
        title=title,
        kind="video",
        uri=f"{content_hash}.mkv",
        content_hash=content_hash,
        episode=episode,
    )


def unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def clustered(n: int, dim: int, clusters: int, seed: int, spread: float = 0.35) -> np.ndarray:
    """Unit vectors around random centres, like frames of many scenes."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    members = rng.integers(0, clusters, size=n)
    return unit(centres[members] + spread * rng.normal(size=(n, dim)))


def codes_and_scales(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scales = (np.abs(vectors).max(axis=1) / 127.0).astype("<f4")
    return np.rint(vectors / scales[:, None]).clip(-127, 127).astype(np.int8), scales


def deflated(vectors: np.ndarray) -> list[bytes]:
    """Rows as the first schema 4 release wrote them: a float32 scale, then zlib'd int8 codes."""
    codes, scales = codes_and_scales(vectors)
    return [s.tobytes() + zlib.compress(c.tobytes(), 6) for s, c in zip(scales, codes, strict=True)]


def as_older_schema(catalog: Path, version: int, table: str) -> None:
    """Make a closed catalog file look as schema `version` left it: without `table`, the one the
    next version added."""
    conn = sqlite3.connect(catalog)
    conn.execute(f"DROP TABLE {table}")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
    conn.commit()
    conn.close()
