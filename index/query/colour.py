"""A frame's palette as small colour histograms: title evidence the pooled embedding blurs.

A title keeps its palette across episodes (skies, walls, cast colours), while the backbone's
pooled features mostly describe what is drawn. So the title head (`index.query.titlehead`)
reads a hue x saturation x value histogram beside the embedding, and tells titles outside the
catalog by how close the query's palette comes to any frame of the guessed title, as it is or
with its colour cast cancelled (the grey histogram: each channel scaled to mean 128 first;
docs/titlehead.md). It costs about a millisecond per picture and needs no model. The catalog's
side is computed at ingest from each full kept frame and stored as `PALETTE_DIM` bytes: the
lossy, byte-fitted previews shift the palette enough to cost right answers; frames stored
before hold the plain histogram alone (their grey one is derived, `grey_world`) or none (their
preview's is read, `catalog_colours`)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from index.types import COLOUR_DIM, HUES, PALETTE_DIM, SATURATIONS, VALUES
from model.fit import to_rgb

if TYPE_CHECKING:
    from index.store.frame_store import FrameStore

_SIZE = (96, 54)  # pixels counted: a histogram needs no detail, and a JPEG decodes this small fast
_GREY = 128.0  # every channel's mean in a grey histogram


def _bin_samples() -> np.ndarray:
    """(COLOUR_DIM, 27, 3) float32 RGB of 3 x 3 x 3 points spread inside each HSV bin."""
    inside = (np.arange(3) + 0.5) / 3
    h, s, v, a, b, c = np.meshgrid(
        np.arange(HUES),
        np.arange(SATURATIONS),
        np.arange(VALUES),
        inside,
        inside,
        inside,
        indexing="ij",
    )
    hsv = np.stack([(h + a) * 256 / HUES, (s + b) * 256 / SATURATIONS, (v + c) * 256 / VALUES])
    pixels = np.clip(hsv, 0, 255).astype(np.uint8).reshape(3, 1, -1).transpose(1, 2, 0)
    rgb = np.asarray(Image.fromarray(pixels, "HSV").convert("RGB"), np.float32)
    return rgb.reshape(COLOUR_DIM, 27, 3)


_SAMPLES = _bin_samples()


def colour_histogram(image: Image.Image) -> np.ndarray:
    """float32 (PALETTE_DIM,): the picture's HSV histogram, then the same of its pixels with
    each channel scaled to mean 128 (a colour cast or brightness shift cancelled). Each half
    holds the square roots of the pixel shares per bin (unit L2 norm), so a dot product of two
    is their Bhattacharyya coefficient."""
    small = np.asarray(to_rgb(image).resize(_SIZE, Image.Resampling.BILINEAR, reducing_gap=2.0))
    pixels = small.astype(np.float32)
    gains = _GREY / (pixels.reshape(-1, 3).mean(axis=0) + 1e-3)
    grey = np.clip(np.round(pixels * gains), 0, 255).astype(np.uint8)
    return np.concatenate([_histogram(small), _histogram(grey)])


def _histogram(rgb: np.ndarray) -> np.ndarray:
    """(COLOUR_DIM,) square roots of an (h, w, 3) uint8 RGB array's pixel shares per HSV bin."""
    hsv = np.asarray(Image.fromarray(rgb).convert("HSV"), dtype=np.int32)
    counts = np.bincount(_bins(hsv).ravel(), minlength=COLOUR_DIM).astype(np.float32)
    return np.sqrt(counts / counts.sum())


def _bins(hsv: np.ndarray) -> np.ndarray:
    """HSV bin of each pixel of an (..., 3) int array of PIL's HSV bytes."""
    return (
        (hsv[..., 0] * HUES // 256) * SATURATIONS * VALUES
        + (hsv[..., 1] * SATURATIONS // 256) * VALUES
        + hsv[..., 2] * VALUES // 256
    )


def grey_world(histograms: np.ndarray) -> np.ndarray:
    """(n, COLOUR_DIM) histograms of the same pictures with each colour channel scaled to one
    mean grey, derived from the histograms alone (points inside each bin stand for its pixels):
    a screenshot's colour cast or brightness shift, which moves the plain histogram, cancels
    out; only roughly, from coarse bins: the grey half of frames stored with the plain
    histogram alone (docs/titlehead.md, "Colour casts")."""
    shares = np.square(np.asarray(histograms, np.float32))
    shares /= shares.sum(axis=1, keepdims=True) + 1e-12
    means = shares @ _SAMPLES.mean(axis=1)  # (n, 3) each picture's mean RGB
    out = np.zeros_like(shares)
    for row, (share, mean) in enumerate(zip(shares, means, strict=True)):
        balanced = np.clip(np.round(_SAMPLES * (_GREY / (mean + 1e-3))), 0, 255).astype(np.uint8)
        hsv = np.asarray(Image.fromarray(balanced.reshape(1, -1, 3)).convert("HSV"), np.int32)
        weights = np.repeat(share / _SAMPLES.shape[1], _SAMPLES.shape[1])
        out[row] = np.bincount(_bins(hsv).ravel(), weights=weights, minlength=COLOUR_DIM)
    return np.sqrt(out)


def with_grey(histograms: np.ndarray) -> np.ndarray:
    """(n, PALETTE_DIM) float32 palettes of (n, PALETTE_DIM) ones (as they are) or of (n,
    COLOUR_DIM) plain histograms (a catalog stored before the grey one was: derived from the
    bins, `grey_world`)."""
    rows = np.asarray(histograms, np.float32)
    if rows.shape[1] == PALETTE_DIM:
        return rows
    return np.concatenate([rows, grey_world(rows)], axis=1).astype(np.float32)


def thumbnail_colours(thumbnails: Iterable[bytes]) -> np.ndarray:
    """(n, PALETTE_DIM) palettes of JPEG thumbnails, decoded at reduced size (`Image.draft`)."""
    rows = []
    for data in thumbnails:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", _SIZE)
            rows.append(colour_histogram(image))
    return np.stack(rows) if rows else np.zeros((0, PALETTE_DIM), np.float32)


def stored_colour(image: Image.Image) -> bytes:
    """The palette of a kept frame as stored in the catalog: one byte a bin (0..255 for 0..1),
    `PALETTE_DIM` bytes a frame."""
    return np.round(colour_histogram(image) * 255).astype(np.uint8).tobytes()


def stored_colours(data: Iterable[bytes]) -> np.ndarray:
    """(n, PALETTE_DIM) palettes of stored bytes (`stored_colour`; each half unit-norm), of
    `COLOUR_DIM` bytes (stored before the grey histogram) with the grey one derived."""
    blobs = list(data)
    out = np.zeros((len(blobs), PALETTE_DIM), np.float32)
    for width in (PALETTE_DIM, COLOUR_DIM):
        at = [i for i, b in enumerate(blobs) if len(b) == width]
        if not at:
            continue
        rows = np.array([np.frombuffer(blobs[i], np.uint8) for i in at], np.float32)
        rows = rows.reshape(len(at), -1, COLOUR_DIM)
        rows /= np.linalg.norm(rows, axis=2, keepdims=True) + 1e-9
        out[at] = with_grey(rows.reshape(len(at), width))
    return out


def catalog_colours(store: FrameStore, frame_ids: Iterable[int]) -> dict[int, np.ndarray]:
    """Palettes of catalogued frames by id: stored at ingest, else (frames stored before
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
    """(n, PALETTE_DIM) float32 palettes of `frame_ids` in order, from `catalog_colours`'
    answer; zeros for a frame it lacks (removed since its id was read)."""
    missing = np.zeros(PALETTE_DIM, np.float32)
    return np.array([found.get(int(f), missing) for f in frame_ids], np.float32).reshape(
        -1, PALETTE_DIM
    )
