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

import cv2
import numpy as np
from PIL import Image

# The stored preview's size (`index.ingest.mapper`), half of that to locate, twice it to score.
FINE = (192, 108)
COARSE = (96, 54)
SCORE = (384, 216)
# Fractions of the frame's width the query may cover: whole frame down to a ~60% area crop.
SCALES = (1.0, 0.92, 0.84, 0.77)
REFINE_RADIUS = 6  # score-grid pixels around the coarse place searched exactly (1.5 coarse ones)
# Between the grid's scales (a meme trim keeps 0.89-0.97 of the width), factors of each plausible
# candidate's (grid score >= OFF_GRID_FLOOR) located scale are scored too, and an off-grid fit
# counts OFF_GRID_LEAD below its NCC: with the scale free, a zooming shot's neighbour fits as well
# as the own frame, so a grid scale is preferred a little; only a little, since a user's crop is
# of any size and rarely on the grid (docs/pictures.md, 2026-11-30 22:10 and 2026-12-01 06:05).
OFF_GRID = (0.95, 0.97, 0.99, 1.01, 1.03, 1.05)
OFF_GRID_LEAD = 0.03
OFF_GRID_FLOOR = 0.5
# A found window this much wider or taller than a preview may have a strip of the outer picture
# (`preview_shaped_crops`).
SHAPE_REACH = 0.06
SHAPE_FLOOR = 0.01  # less is a frame's own rounding when scaled into a window (a pixel or two)
_EPS = 1e-6
_FLAT = 1e-3  # grey levels: a template this flat correlates with nothing


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
    places: Sequence[tuple[int, int, int, int]],
    radius: int = REFINE_RADIUS,
) -> np.ndarray:
    """Per place (reference index, template index, row, column in score-grid pixels) the best NCC
    of that template over that reference `(n, h, w)` within `radius` of the place (OpenCV's
    normalised correlation on the window alone); -1 where the template is flat or too large."""
    references = references.astype(np.float32)
    _, height, width = references.shape
    scores = np.full(len(places), -1.0)
    for slot, (ref, index, row, col) in enumerate(places):
        template = templates[index].astype(np.float32)
        rows, cols = template.shape
        if rows > height or cols > width or float(template.std()) < _FLAT:
            continue
        row, col = min(max(row, 0), height - rows), min(max(col, 0), width - cols)
        top, left = max(0, row - radius), max(0, col - radius)
        window = references[ref, top : row + radius + rows, left : col + radius + cols]
        scores[slot] = float(cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED).max())
    return scores


def spatial_scores(
    view: Image.Image,
    jpegs: Sequence[bytes],
    mirrored: bool | None = False,
    scales: Sequence[float] = SCALES,
    off_grid: bool = False,
) -> np.ndarray:
    """How well `view` (flipped when `mirrored`) sits somewhere inside each thumbnail: located on
    the coarse grid, scored on the score grid. One orientation for all candidates, so a mirror
    cannot favour one of them: the caller's, or with `mirrored=None` the one in which some
    candidate contains the view best on the coarse grid (cheap: only that one is refined).
    `off_grid` also scores `OFF_GRID` factors of each plausible candidate's scale (for a view
    whose edges are exact; a picture found inside has its own scale errors)."""
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
    grid_places = [
        (ref, index, row * ratio, col * ratio) for ref, (index, row, col, _) in enumerate(located)
    ]
    plausible = [place for place, found in zip(grid_places, located, strict=True)
                 if off_grid and found[3] >= OFF_GRID_FLOOR]  # fmt: skip
    factors = sorted({(place[1], factor) for place in plausible for factor in OFF_GRID
                      if scales[place[1]] * factor <= 1.0})  # fmt: skip
    templates = query_templates(view, [*scales, *(scales[i] * f for i, f in factors)], SCORE)
    places = grid_places + _off_grid_places(templates, plausible, factors, len(scales))
    scores = refine(templates, score_refs, places)
    best_scores = scores[: len(located)]
    for (ref, *_), score in zip(places[len(located) :], scores[len(located) :], strict=True):
        best_scores[ref] = max(best_scores[ref], score - OFF_GRID_LEAD)
    return best_scores


def preview_shaped_crops(view: Image.Image) -> list[Image.Image]:
    """A window found inside, a strip off one side or the other so it has the previews' shape
    (`FINE`'s: every stored frame is stretched to it), when it is up to `SHAPE_REACH` wider or
    taller than that by more than `SHAPE_FLOOR`; [] otherwise. A window's side found on its
    shadow's outer edge or a line of the outer picture next to it leaves a strip of the outer
    picture in the view (6-33 px of 500-700), and the re-rank then fits a neighbouring frame
    best; the view with the exact window fits the right one (docs/pictures.md, 2026-12-01
    11:50). Which side is off is the re-rank's call (`choose_view`)."""
    width, height = view.size
    shape = FINE[0] / FINE[1]
    ratio = width / max(1, height) / shape
    if not 1 / (1 + SHAPE_REACH) <= ratio <= 1 + SHAPE_REACH:
        return []
    if ratio >= 1:
        cut = width - round(height * shape)
        boxes = [(cut, 0, width, height), (0, 0, width - cut, height)]
    else:
        cut = height - round(width / shape)
        boxes = [(0, cut, width, height), (0, 0, width, height - cut)]
    if cut <= SHAPE_FLOOR * (width if ratio >= 1 else height):
        return []
    return [view.crop(box) for box in boxes]


def choose_view(scores: np.ndarray) -> tuple[int, int]:
    """The view and pool frame to answer from, given several views' spatial scores (views x
    pool). Each view counts by its best frame's score plus that frame's lead over the view's
    runner-up: a part of the screen fits several frames of its shot alike, so its best tops the
    whole screen's right frame by 0.003-0.03 while barely leading its own neighbours
    (docs/pictures.md, 2026-12-01 04:20)."""
    ordered = np.sort(scores, axis=1)
    runner_up = ordered[:, -2] if scores.shape[1] > 1 else ordered[:, -1]
    view = int((2 * ordered[:, -1] - runner_up).argmax())
    return view, int(scores[view].argmax())


def _off_grid_places(
    templates: Sequence[np.ndarray],
    plausible: Sequence[tuple[int, int, int, int]],
    factors: Sequence[tuple[int, float]],
    first: int,
) -> list[tuple[int, int, int, int]]:
    """Each plausible grid place again with each off-grid template of its scale (`factors[k]`
    is `templates[first + k]`), centred where the grid's template was."""
    places = []
    for ref, index, row, col in plausible:
        rows, cols = templates[index].shape
        for slot, (grid, _) in enumerate(factors):
            if grid == index:
                height, width = templates[first + slot].shape
                top, left = row + round((rows - height) / 2), col + round((cols - width) / 2)
                places.append((ref, first + slot, top, left))
    return places
