"""Spatial re-rank of a title's frames: where inside each frame does the query sit, and how well.

Pooled embeddings are nearly translation-invariant, so a crop of a panning or zooming shot lands
on another moment of that shot. Small grayscale pictures are not: sliding the query, shrunk to a
few fractions of the frame, over each candidate's thumbnail and taking the best normalised
cross-correlation scores the frame that actually contains the crop highest.

Coarse to fine: every scale and offset is tried at once (FFT) on a coarse grid, which finds where
the crop sits; the score is then taken on a finer one near that place (docs/calibration.md): the
stored preview upsampled 2x, against the query shrunk only that far, so a crop's offset between
preview pixels and the query's own detail count (docs/pictures.md, 2026-11-30 14:20).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image

# The stored preview's size (`index.ingest.mapper`), half of that to locate, twice it to score.
FINE = (192, 108)
COARSE = (96, 54)
SCORE = (384, 216)
# Fractions of the frame's width the query may cover: whole frame down to a ~60% area crop.
SCALES = (1.0, 0.92, 0.84, 0.77)
REFINE_RADIUS = 6  # score-grid pixels around the coarse place searched exactly (1.5 coarse ones)
_EPS = 1e-6


def reference_grids(jpeg: bytes) -> tuple[np.ndarray, np.ndarray]:
    """A stored preview as float32 grayscale (SCORE, COARSE) grids. A WebP preview is FINE (an
    older catalog's 384 px JPEG is decoded at half DCT scale); the score grid is it upsampled."""
    with Image.open(io.BytesIO(jpeg)) as image:
        image.draft("L", FINE)
        grey = image.convert("L")
    if grey.size != FINE:
        grey = grey.resize(FINE, Image.Resampling.BILINEAR)
    score = grey.resize(SCORE, Image.Resampling.BILINEAR)
    coarse = grey.reduce(FINE[0] // COARSE[0])
    return np.asarray(score, dtype=np.float32), np.asarray(coarse, dtype=np.float32)


def query_templates(
    view: Image.Image, scales: Sequence[float] = SCALES, size: tuple[int, int] = SCORE
) -> list[np.ndarray]:
    """The query as grayscale templates, one per scale, at `scale` x the grid's width (its own
    aspect kept, never taller than the grid)."""
    grey = view.convert("L")
    factor = min(grey.width // (2 * size[0]), grey.height // (2 * size[1]))
    if factor > 1:  # box-reduce first: a 1280 px view straight to 96 px is slower and aliased
        grey = grey.reduce(factor)
    aspect = grey.height / max(1, grey.width)
    templates = []
    for scale in scales:
        width = min(size[0], round(size[0] * scale))
        height = round(width * aspect)
        if height > size[1]:
            height, width = size[1], min(size[0], round(size[1] / aspect))
        width, height = max(4, width), max(4, height)
        small = grey.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
        templates.append(np.asarray(small, dtype=np.float32))
    return templates


def correlation_maps(
    template: np.ndarray, spectra: np.ndarray, integrals: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """NCC of `template` at every offset where it lies wholly inside each reference `(n, h, w)`:
    `(n, h - rows + 1, w - cols + 1)`, -1 where a patch is flat. `spectra` and `integrals`
    (sums, squared sums) are computed once per reference set by `_prepare`."""
    sums_table, squares_table = integrals
    count, height, width = sums_table.shape[0], sums_table.shape[1] - 1, sums_table.shape[2] - 1
    rows, cols = template.shape
    centred = template - template.mean()
    norm = float(np.linalg.norm(centred))
    if norm < _EPS or rows > height or cols > width:
        return np.full((count, 1, 1), -1.0)
    # Circular convolution with the flipped template; the wrap-free part is the correlation.
    kernel = np.fft.rfft2(centred[::-1, ::-1], s=(height, width))
    full = np.fft.irfft2(spectra * kernel, s=(height, width))
    numerator = full[:, rows - 1 :, cols - 1 :]
    sums = _window_sums(sums_table, rows, cols)
    energy = _window_sums(squares_table, rows, cols) - sums**2 / (rows * cols)
    spread = np.sqrt(np.maximum(energy, 0.0))
    return np.where(spread > _EPS, numerator / (norm * np.maximum(spread, _EPS)), -1.0)


def _prepare(references: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Spectra and integral images (of pixels and squared pixels) of `(n, h, w)` references."""
    count, height, width = references.shape
    wide = references.astype(np.float64)  # pocketfft is several times faster in float64
    sums = np.zeros((count, height + 1, width + 1))
    squares = np.zeros_like(sums)
    sums[:, 1:, 1:] = wide.cumsum(1).cumsum(2)
    squares[:, 1:, 1:] = (wide**2).cumsum(1).cumsum(2)
    return np.fft.rfft2(wide), (sums, squares)


def _window_sums(integral: np.ndarray, rows: int, cols: int) -> np.ndarray:
    return (
        integral[:, rows:, cols:]
        - integral[:, :-rows, cols:]
        - integral[:, rows:, :-cols]
        + integral[:, :-rows, :-cols]
    )


def locate(
    templates: Sequence[np.ndarray], references: np.ndarray
) -> list[tuple[int, int, int, float]]:
    """Per reference, (scale index, row, column, NCC) of the best template placement."""
    spectra, integrals = _prepare(references)
    best = [(0, 0, 0, -1.0)] * references.shape[0]
    for index, template in enumerate(templates):
        maps = correlation_maps(template, spectra, integrals)
        flat = maps.reshape(maps.shape[0], -1).argmax(axis=1)
        for ref, position in enumerate(flat):
            row, col = divmod(int(position), maps.shape[2])
            score = float(maps[ref, row, col])
            if score > best[ref][3]:
                best[ref] = (index, row, col, score)
    return best


def refine(
    templates: Sequence[np.ndarray],
    references: np.ndarray,
    places: Sequence[tuple[int, int, int, float]],
    radius: int = REFINE_RADIUS,
) -> np.ndarray:
    """Per reference `(n, h, w)`, the best NCC of its located template (scale index, row, column
    in score-grid pixels) within `radius` of that place. References that chose the same scale
    share one batched FFT for the products; the patch statistics are summed only near each place
    (integral images of whole score grids cost more than all the rest)."""
    references = references.astype(np.float64)  # pocketfft is several times faster in float64
    spectra = np.fft.rfft2(references)
    _, height, width = references.shape
    scores = np.full(references.shape[0], -1.0)
    for scale in sorted({place[0] for place in places}):
        template = templates[scale].astype(np.float64)
        rows, cols = template.shape
        centred = template - template.mean()
        norm = float(np.linalg.norm(centred))
        if norm < _EPS or rows > height or cols > width:
            continue
        members = [ref for ref, place in enumerate(places) if place[0] == scale]
        kernel = np.fft.rfft2(centred[::-1, ::-1], s=(height, width))
        full = np.fft.irfft2(spectra[members] * kernel, s=(height, width))
        for slot, ref in enumerate(members):
            _, row, col, _ = places[ref]
            top, left = max(0, row - radius), max(0, col - radius)
            bottom = min(height - rows, row + radius) + 1
            right = min(width - cols, col + radius) + 1
            if top >= bottom or left >= right:
                continue
            numerator = full[slot, top + rows - 1 : bottom + rows - 1,
                             left + cols - 1 : right + cols - 1]  # fmt: skip
            region = references[ref, top : bottom - 1 + rows, left : right - 1 + cols]
            spread = _local_spread(region, rows, cols)
            ncc = np.where(spread > _EPS, numerator / (norm * np.maximum(spread, _EPS)), -1.0)
            scores[ref] = float(ncc.max())
    return scores


def _local_spread(region: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """sqrt of sum((patch - mean)^2) of every rows x cols patch of a small `region`."""
    offsets = region.shape[0] - rows + 1
    squares = region * region
    row_sums = np.stack([region[dy : dy + rows].sum(axis=0) for dy in range(offsets)])
    row_squares = np.stack([squares[dy : dy + rows].sum(axis=0) for dy in range(offsets)])
    sums = _box_columns(row_sums, cols)
    energy = _box_columns(row_squares, cols) - sums**2 / (rows * cols)
    return np.sqrt(np.maximum(energy, 0.0))


def _box_columns(lines: np.ndarray, cols: int) -> np.ndarray:
    padded = np.zeros((lines.shape[0], lines.shape[1] + 1))
    padded[:, 1:] = lines.cumsum(axis=1)
    return padded[:, cols:] - padded[:, :-cols]


def spatial_scores(
    view: Image.Image,
    jpegs: Sequence[bytes],
    mirrored: bool | None = False,
    scales: Sequence[float] = SCALES,
) -> np.ndarray:
    """How well `view` (flipped when `mirrored`) sits somewhere inside each thumbnail: located on
    the coarse grid, scored on the score grid. One orientation for all candidates, so a mirror
    cannot favour one of them: the caller's, or with `mirrored=None` the one in which some
    candidate contains the view best on the coarse grid (cheap: only that one is refined)."""
    if not jpegs:
        return np.zeros(0)
    grids = [reference_grids(jpeg) for jpeg in jpegs]
    score_refs = np.stack([score for score, _ in grids])
    coarse_refs = np.stack([coarse for _, coarse in grids])
    best: tuple[Image.Image, list[tuple[int, int, int, float]]] | None = None
    for flip in (False, True) if mirrored is None else (mirrored,):
        oriented = view.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if flip else view
        located = locate(query_templates(oriented, scales, COARSE), coarse_refs)
        if best is None or max(p[3] for p in located) > max(p[3] for p in best[1]):
            best = (oriented, located)
    view, located = best
    ratio = SCORE[0] // COARSE[0]
    places = [(scale, row * ratio, col * ratio, score) for scale, row, col, score in located]
    return refine(query_templates(view, scales, SCORE), score_refs, places)
