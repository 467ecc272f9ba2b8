"""A photographed screen's two best frames told apart by aligning each to the photo itself.

Which frame a rectified screen answers turns on its corners a pixel or two either way (with the
true corners, 33 of 46 misses were answered: docs/pictures.md, 2026-12-01 08:10), and the edge
walk that places them from the photo alone has run out. The re-rank's pick and runner-up are
each aligned to the photo instead (OpenCV's ECC, a homography started from the found corners),
so each frame gets its own corners, and the one whose preview fits the photo better answers.
Cutting the screen again along the pick's fitted corners and re-ranking does not work: the
homography absorbs a pan, so the view re-cut for a frame favours that frame (docs/pictures.md,
2026-12-01 11:40).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image

from index.query.align import ECC_BLUR, ECC_CRITERIA
from index.query.bezel import quad_sides
from index.query.rerank import SCORE, reference_grids

# The runner-up answers when its preview fits the photo at least this well (a screen tens of
# pixels off, or a preview not of this screen, aligns to 0.5-0.8) and better than the pick's by
# more than FIT_LEAD (docs/pictures.md, 2026-12-01 11:40).
FIT_FLOOR = 0.8
FIT_LEAD = 5e-3
# The preview's corners in its score grid's pixel indices (pixel centres are integers there).
_PREVIEW_CORNERS = np.float32(
    [[-0.5, -0.5], [SCORE[0] - 0.5, -0.5], [SCORE[0] - 0.5, SCORE[1] - 0.5], [-0.5, SCORE[1] - 0.5]]
)


def fitted_pick(
    photo: Image.Image, corners: np.ndarray, jpegs: Sequence[bytes], scores: np.ndarray, pick: int
) -> int:
    """The re-rank's `pick`, or its runner-up in `scores` when that frame's preview fits the
    screen at `corners` of `photo` better (`screen_fits`, `FIT_FLOOR`, `FIT_LEAD`)."""
    if len(jpegs) < 2:
        return pick
    runner_up = next(int(index) for index in np.argsort(-scores) if index != pick)
    mine, theirs = screen_fits(photo, corners, [jpegs[pick], jpegs[runner_up]])
    return runner_up if theirs >= FIT_FLOOR and theirs - mine > FIT_LEAD else pick


def screen_fits(photo: Image.Image, corners: np.ndarray, jpegs: Sequence[bytes]) -> np.ndarray:
    """ECC correlation of each stored preview with the screen at `corners` (float32 (4, 2),
    `inner.find_quads`' order) of `photo`, aligned by a homography started there; -1 where the
    alignment fails."""
    # The photo at about the preview grid's scale, so ECC compares like with like.
    factor = SCORE[0] / max(1.0, quad_sides(corners)[0])
    size = (max(1, round(photo.width * factor)), max(1, round(photo.height * factor)))
    grey = cv2.resize(
        np.asarray(photo.convert("L"), dtype=np.float32), size, interpolation=cv2.INTER_AREA
    )
    start = ((corners + 0.5) * factor - 0.5).astype(np.float32)  # the shrunk photo's indices
    warp = cv2.getPerspectiveTransform(_PREVIEW_CORNERS, start).astype(np.float32)
    fits = np.full(len(jpegs), -1.0)
    for slot, jpeg in enumerate(jpegs):
        template, _ = reference_grids(jpeg)
        try:
            fits[slot], _ = cv2.findTransformECC(
                template, grey, warp.copy(), cv2.MOTION_HOMOGRAPHY, ECC_CRITERIA, None, ECC_BLUR
            )
        except cv2.error:  # did not converge: a flat screen, or a warp that left the photo
            continue
    return fits
