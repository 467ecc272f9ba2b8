"""The picture check behind adaptive search: a generated frame against its stored thumbnail."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from index.ingest.mapper import encode_thumbnail
from index.query.flipcheck import SIGNATURE_SIZE, agreement, signature, thumbnail_signature
from index.query.params import SURE_AGREEMENT
from synthetic.render import render_frame
from synthetic.titles import make_titles

CATALOGUED = (640, 360)
SCREENSHOT = (1280, 720)


@pytest.fixture(scope="module")
def styles():
    return make_titles(2, seed=5)


@pytest.mark.parametrize("time", [3.0, 11.5])
def test_same_picture_agrees_and_mirror_does_not(styles, time: float) -> None:
    thumbnail = thumbnail_signature(encode_thumbnail(render_frame(styles[0], 1, time, CATALOGUED)))
    screenshot = render_frame(styles[0], 1, time, SCREENSHOT)

    direct, mirrored = agreement(signature(screenshot), thumbnail)
    assert direct >= SURE_AGREEMENT and direct > mirrored

    flipped_direct, flipped_mirrored = agreement(signature(ImageOps.mirror(screenshot)), thumbnail)
    assert flipped_direct < SURE_AGREEMENT
    assert flipped_mirrored > flipped_direct
    assert flipped_mirrored == pytest.approx(direct, abs=0.02)


def test_other_picture_does_not_agree(styles) -> None:
    thumbnail = thumbnail_signature(encode_thumbnail(render_frame(styles[0], 1, 3.0, CATALOGUED)))
    other = signature(render_frame(styles[1], 1, 3.0, SCREENSHOT))
    assert agreement(other, thumbnail)[0] < SURE_AGREEMENT


def test_signature_is_normalised_and_flat_image_agrees_with_nothing(styles) -> None:
    frame = signature(render_frame(styles[0], 1, 3.0, CATALOGUED))
    assert frame.shape == (SIGNATURE_SIZE[0] * SIGNATURE_SIZE[1],)
    assert float(np.linalg.norm(frame)) == pytest.approx(1.0, abs=1e-5)
    flat = signature(Image.new("RGB", (64, 36), (90, 90, 90)))
    assert not flat.any() and agreement(frame, flat) == (0.0, 0.0)
