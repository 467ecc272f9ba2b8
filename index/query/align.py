"""Near-tied frames of one shot told apart by aligning each to the query precisely.

The re-rank (`index.query.rerank`) scores a view on a grid of scales plus a few off-grid factors,
the off-grid ones counted a little lower. A camera slides or zooms over background art with the
cast pasted on it, so two frames of one shot a second or two apart differ only by the actors'
idle bob, sway and mouths once the background is aligned: on the grid a neighbour at a nearby
scale fits a crop about as well as the own frame, 0.001-0.08 higher in 11 of 12 edit stacks'
misses (docs/pictures.md, 2026-12-01 06:05). Aligned continuously instead (OpenCV's ECC, an
affine warp started from the best of fine scales), every candidate gets its own exact scale and
place with no prior, and the frame whose cast sits where the query's does fits best
(docs/pictures.md, 2026-12-01 07:50).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image

from index.query.rerank import COARSE, SCORE, locate, query_templates, reference_grids

# The re-rank's scores within this of its pick, same episode, this close in time: one shot's
# frames, tied; farther ones are another shot the grid already tells apart.
TIE_SCORE = 0.05
TIE_SECONDS = 4.0
# Another tied frame answers only if it fits by more than this: aligned fits this close are the
# same picture to the preview's pixels (crops of 70%, on the grid, lost 4 ties of 3e-4 or less
# and gained none so; edit stacks gained 3; docs/pictures.md, 2026-12-01 07:50).
FIT_LEAD = 3e-4
# Fractions of the frame's width located on the coarse grid before the warp is refined: every
# crop the bench draws (a meme trim 0.89-0.97, a crop of 55-97% of the area: 0.74-0.98).
FINE_SCALES = tuple(np.round(np.arange(0.70, 1.0001, 0.01), 2))
ECC_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-5)
ECC_BLUR = 3  # OpenCV's Gaussian pre-filter (pixels): a JPEG's blocks and a preview's softness

Moment = tuple[str | None, float | None]  # a pool frame's episode and time


def tied_frames(scores: np.ndarray, frames: Sequence[Moment], pick: int) -> list[int]:
    """Pool indices tied with `pick`: within `TIE_SCORE` of its spatial score, in its episode,
    within `TIE_SECONDS` of it (`frames`: episode and time per pool frame; a frame without a time,
    an uploaded image's, is tied with nothing)."""
    episode, time_s = frames[pick]
    if time_s is None:
        return [pick]
    return [
        index
        for index, (other_episode, other_time) in enumerate(frames)
        if scores[index] >= scores[pick] - TIE_SCORE
        and other_episode == episode
        and other_time is not None
        and abs(other_time - time_s) <= TIE_SECONDS
    ]


def settle_tie(
    view: Image.Image,
    jpegs: Sequence[bytes],
    scores: np.ndarray,
    frames: Sequence[Moment],
    pick: int,
) -> int:
    """The re-rank's `pick`, or the frame of its shot tied with it that `view` fits best, by more
    than `FIT_LEAD`, when each is aligned to it precisely (`aligned_fits`)."""
    tied = tied_frames(scores, frames, pick)
    if len(tied) < 2:
        return pick
    fits = aligned_fits(view, [jpegs[index] for index in tied])
    best = int(np.argmax(fits))
    return tied[best] if fits[best] - fits[tied.index(pick)] > FIT_LEAD else pick


def aligned_fits(view: Image.Image, jpegs: Sequence[bytes]) -> np.ndarray:
    """ECC correlation of `view` with each stored preview after an affine warp started from the
    best of `FINE_SCALES` on the coarse grid; -1 where it fails. One orientation for all: the one
    in which some preview contains the view best (a flip is one of the ordinary edits)."""
    grids = [reference_grids(jpeg) for jpeg in jpegs]
    coarse = np.stack([coarse for _, coarse in grids])
    starts: tuple[float, Image.Image, list[tuple[int, int, int]]] | None = None
    for oriented in (view, view.transpose(Image.Transpose.FLIP_LEFT_RIGHT)):
        located = locate(query_templates(oriented, FINE_SCALES, COARSE), coarse)
        best = max(score for *_, score in located)
        if starts is None or best > starts[0]:
            starts = (best, oriented, [(scale, row, col) for scale, row, col, _ in located])
    assert starts is not None
    _, oriented, places = starts
    ratio = SCORE[0] // COARSE[0]
    fits = np.full(len(grids), -1.0)
    for slot, ((score_grid, _), (scale, row, col)) in enumerate(zip(grids, places, strict=True)):
        template = query_templates(oriented, [FINE_SCALES[scale]], SCORE)[0]
        warp = np.array([[1, 0, col * ratio], [0, 1, row * ratio]], np.float32)
        try:
            fits[slot], _ = cv2.findTransformECC(
                template, score_grid, warp, cv2.MOTION_AFFINE, ECC_CRITERIA, None, ECC_BLUR
            )
        except cv2.error:  # did not converge: a flat view, or a warp that left the preview
            continue
    return fits
