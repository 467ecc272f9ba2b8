"""A frame's palette as a small colour histogram: title evidence the pooled embedding blurs.

A title keeps its palette across episodes (skies, walls, cast colours), while the backbone's
pooled features mostly describe what is drawn. So the title head (`index.query.titlehead`)
reads a hue x saturation x value histogram beside the embedding, and tells titles outside the
catalog by how close the query's palette comes to any frame of the guessed title
(docs/titlehead.md). It costs about a millisecond per picture and needs no model. The catalog's
side is computed at ingest from each full kept frame and stored as `COLOUR_DIM` bytes (schema 5):
the lossy, byte-fitted previews shift the palette enough to cost right answers; frames stored
before fall back to their preview's histogram (`catalog_colours`).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from index.types import COLOUR_DIM, HUES, SATURATIONS, VALUES
from model.fit import to_rgb

if TYPE_CHECKING:
    from index.store.frame_store import FrameStore

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


def stored_colour(image: Image.Image) -> bytes:
    """The histogram of a kept frame as stored in the catalog: one byte a bin (0..255 for
    0..1), `COLOUR_DIM` bytes a frame."""
    return np.round(colour_histogram(image) * 255).astype(np.uint8).tobytes()


def stored_colours(data: Iterable[bytes]) -> np.ndarray:
    """(n, COLOUR_DIM) unit-norm histograms of stored bytes (`stored_colour`)."""
    rows = np.array([np.frombuffer(b, np.uint8) for b in data], np.float32)
    rows = rows.reshape(-1, COLOUR_DIM)
    return rows / (np.linalg.norm(rows, axis=1, keepdims=True) + 1e-9)


def catalog_colours(store: FrameStore, frame_ids: Iterable[int]) -> dict[int, np.ndarray]:
    """Histograms of catalogued frames by id: stored at ingest, else (frames stored before
    schema 5) their preview's; frames no longer in the catalog are absent."""
    ids = [int(f) for f in frame_ids]
    stored = store.colours(ids)
    found = dict(zip(stored, stored_colours(stored.values()), strict=True))
    for frame_id in ids:
        if frame_id not in found:
            thumbnail = store.thumbnail(frame_id)
            if thumbnail:
                found[frame_id] = thumbnail_colours([thumbnail])[0]
    return found


def colour_rows(found: Mapping[int, np.ndarray], frame_ids: Iterable[int]) -> np.ndarray:
    """(n, COLOUR_DIM) float32 histograms of `frame_ids` in order, from `catalog_colours`'
    answer; zeros for a frame it lacks (removed since its id was read)."""
    missing = np.zeros(COLOUR_DIM, np.float32)
    return np.array([found.get(int(f), missing) for f in frame_ids], np.float32).reshape(
        -1, COLOUR_DIM
    )
