"""Colour histograms (plain and grey), which the title head reads beside the embedding."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageEnhance

from index.ingest.mapper import encode_thumbnail
from index.query.colour import (
    COLOUR_DIM,
    PALETTE_DIM,
    colour_histogram,
    colour_rows,
    grey_world,
    stored_colour,
    stored_colours,
    thumbnail_colours,
    with_grey,
)
from synthetic.render import render_frame
from synthetic.titles import make_titles


def test_histogram_is_a_unit_vector_of_pixel_shares() -> None:
    palette = colour_histogram(Image.new("RGB", (64, 48), (220, 20, 20)))
    assert palette.shape == (PALETTE_DIM,) and palette.dtype == np.float32
    red, red_grey = palette[:COLOUR_DIM], palette[COLOUR_DIM:]
    assert np.linalg.norm(red) == np.float32(1.0) and (red > 0).sum() == 1  # one bin, all pixels
    half = Image.new("RGB", (64, 48), (220, 20, 20))
    half.paste((20, 20, 220), (0, 0, 32, 48))
    split = colour_histogram(half)[:COLOUR_DIM]
    shares = np.sort(split**2)  # the blend at the seam takes a pixel column or two
    assert np.allclose(shares[-2:], 0.5, atol=0.02) and shares[:-2].sum() < 0.03
    gray = colour_histogram(Image.new("L", (10, 10), 128))  # any mode is taken as RGB
    assert float(red @ gray[:COLOUR_DIM]) == 0.0
    # Each channel scaled to mean 128: a solid red is the mid grey a grey picture is.
    assert np.linalg.norm(red_grey) == np.float32(1.0) and float(red_grey @ gray[COLOUR_DIM:]) == 1


def test_a_stored_thumbnail_reads_like_the_picture() -> None:
    frames = [render_frame(style, 1, 2.0, (640, 360)) for style in make_titles(2, seed=3)]
    stored = thumbnail_colours([encode_thumbnail(frame) for frame in frames])
    direct = np.stack([colour_histogram(frame) for frame in frames])
    halves = (stored * direct).reshape(2, 2, COLOUR_DIM).sum(axis=2)  # plain, grey
    assert (halves[:, 0] > 0.95).all()  # the lossy preview barely moves the bins
    assert (halves[:, 1] > 0.9).all()  # the grey ones a little more (gains scale its noise)
    plain = slice(0, COLOUR_DIM)  # while another title's frame reads otherwise
    assert float(stored[0, plain] @ direct[1, plain]) < 0.9
    assert thumbnail_colours([]).shape == (0, PALETTE_DIM)


def test_a_stored_histogram_is_one_byte_a_bin_and_reads_back_as_computed() -> None:
    frames = [render_frame(style, 1, 2.0, (640, 360)) for style in make_titles(3, seed=4)]
    data = [stored_colour(frame) for frame in frames]
    assert all(isinstance(d, bytes) and len(d) == PALETTE_DIM for d in data)
    read = stored_colours(data)
    direct = np.stack([colour_histogram(frame) for frame in frames])
    halves = (read * direct).reshape(3, 2, COLOUR_DIM)
    assert read.shape == (3, PALETTE_DIM)
    assert np.allclose(np.linalg.norm(read.reshape(3, 2, COLOUR_DIM), axis=2), 1.0)
    assert (halves.sum(axis=2) > 0.999).all()  # 8 bits of a square root lose ~nothing
    assert float(read[0, :COLOUR_DIM] @ direct[1, :COLOUR_DIM]) < 0.9
    assert stored_colours([]).shape == (0, PALETTE_DIM)
    # A frame stored before the grey histogram (its plain bytes alone) reads with it derived.
    older = stored_colours([data[0][:COLOUR_DIM], data[1]])
    assert np.allclose(older[0], with_grey(read[:1, :COLOUR_DIM])[0], atol=1e-6)
    assert np.array_equal(older[1], read[1])


def test_colour_rows_keep_the_ids_order_and_zero_a_frame_without_one() -> None:
    red, blue = (colour_histogram(Image.new("RGB", (32, 18), c)) for c in ("red", "blue"))
    rows = colour_rows({7: red, 3: blue}, [3, 9, 7])
    assert rows.shape == (3, PALETTE_DIM) and rows.dtype == np.float32
    assert np.array_equal(rows[0], blue) and np.array_equal(rows[2], red)
    assert not rows[1].any()  # frame 9 was removed since its id was read
    assert colour_rows({}, []).shape == (0, PALETTE_DIM)


def test_grey_histograms_cancel_a_colour_cast_that_moves_the_plain_one() -> None:
    frames = [render_frame(style, 1, 2.0, (640, 360)) for style in make_titles(3, seed=4)]
    casts = []
    for frame in frames:  # red up, blue down, darker: a night filter on another display
        r, g, b = frame.split()
        cast = Image.merge(
            "RGB",
            (r.point(lambda v: min(255, round(v * 1.18))), g, b.point(lambda v: round(v * 0.82))),
        )
        casts.append(ImageEnhance.Brightness(cast).enhance(0.8))
    palettes = np.stack([colour_histogram(image) for image in frames])
    tinted_palettes = np.stack([colour_histogram(image) for image in casts])
    plain, tinted = palettes[:, :COLOUR_DIM], tinted_palettes[:, :COLOUR_DIM]
    grey, grey_tinted = grey_world(plain), grey_world(tinted)
    assert grey.shape == plain.shape and np.allclose(np.linalg.norm(grey, axis=1), 1, atol=1e-5)
    same_plain = np.sum(plain * tinted, axis=1)
    same_grey = np.sum(grey * grey_tinted, axis=1)
    # Derived from 108 coarse bins, the cancelling is rough, but far closer than the plain bins.
    assert (same_grey > same_plain + 0.1).all() and np.mean(same_grey - same_plain) > 0.3
    # From the pixels (what ingest stores and a query computes), closer still.
    same_pixels = np.sum(palettes[:, COLOUR_DIM:] * tinted_palettes[:, COLOUR_DIM:], axis=1)
    assert (same_pixels > same_grey).all(), (same_pixels, same_grey)
    assert grey_world(np.zeros((0, COLOUR_DIM))).shape == (0, COLOUR_DIM)
