"""Near-tied frames of one shot told apart by aligning each to the query precisely."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

import index.query.identify as identify_module
from index.ingest.mapper import encode_thumbnail
from index.query.align import aligned_fits, settle_tie, tied_frames
from index.query.rerank import spatial_scores
from synthetic.pictures import STACKABLE, crop_trim
from synthetic.render import render_frame
from synthetic.titles import make_titles
from tests.index.query.conftest import Catalog, inner_off, kept_queries
from tests.index.query.moving_shots import OFFSETS, OWN, SIZE, moving_shot_middles

# Edits a meme trim is stacked with (bars are trimmed before the re-rank, so none here).
WITH = ("downscale240", "flip", "jpeg25", "subtitle", "tint")


def _moving_shot_stacks() -> list[tuple[Image.Image, list[bytes]]]:
    """A meme trim plus one or two other edits of the middle of every panning or zooming shot
    long enough for t +- 1.5 s (4 stacks each), with its shot's previews at `OFFSETS`."""
    stacks = []
    for frame, previews in moving_shot_middles(zooming_only=False):
        for seed in range(4):
            rng = random.Random(seed)
            query = crop_trim(frame, rng)
            for name in rng.sample(WITH, rng.randint(1, 2)):
                query = STACKABLE[name](query, rng)
            stacks.append((query.convert("RGB"), previews))
    return stacks


def test_edit_stacks_of_moving_shots_find_their_own_frame_when_aligned() -> None:
    """The re-rank's grid lets a neighbour of a sliding or zooming shot fit a trim about as well
    as the own frame; aligned continuously, the own frame is found far more often. Measured
    (make_titles(4, seed=3), 128 stacks): the re-rank's pick 91 own frames, settled 111."""
    stacks = _moving_shot_stacks()
    frames = [("1", offset) for offset in OFFSETS]
    picked = settled = 0
    for query, previews in stacks:
        scores = spatial_scores(query, previews, mirrored=None, off_grid=True)
        pick = int(np.argmax(scores))
        picked += pick == OWN
        settled += settle_tie(query, previews, scores, frames, pick) == OWN
    print(len(stacks), "stacks: own frame picked", picked, "settled", settled)
    assert settled >= picked + 12, (len(stacks), picked, settled)


def test_only_the_picks_shot_is_tied() -> None:
    """Tied: within the score margin, in the pick's episode, within seconds of it; a frame
    without a time with nothing."""
    scores = np.array([0.90, 0.88, 0.70, 0.89, 0.895])
    frames = [("1", 10.0), ("1", 11.0), ("1", 10.5), ("2", 10.0), ("1", 30.0)]
    assert tied_frames(scores, frames, 0) == [0, 1]
    untimed = [("1", None), ("1", 10.0), ("1", None)]  # uploaded images have no time
    assert tied_frames(scores[:3], untimed, 0) == [0]
    assert tied_frames(scores[:3], untimed, 1) == [1]
    # untied, the pick stands and nothing is aligned
    blank = Image.new("RGB", (320, 180), "grey")
    assert settle_tie(blank, [b"not decoded"], scores[:1], frames[:1], 0) == 0


def test_a_flat_view_fits_nothing_and_mirrors_are_aligned_mirrored() -> None:
    """A flat view's warp cannot converge (-1, never an error); a flipped crop is aligned in
    the orientation some preview holds it in."""
    style = make_titles(4, seed=3)[0]
    frame = render_frame(style, 1, 5.0, SIZE)
    preview = encode_thumbnail(frame)
    flat = aligned_fits(Image.new("RGB", (320, 180), "grey"), [preview])
    assert flat.tolist() == [-1.0]
    flipped = crop_trim(frame, random.Random(2)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    assert aligned_fits(flipped, [preview])[0] > 0.95


@pytest.mark.slow
def test_only_an_edited_pictures_rerank_is_settled(catalog: Catalog, monkeypatch) -> None:
    """Clean screenshots never pay for the alignment, even re-ranked as near-ties (the tie rule
    widened here to re-rank them all); meme trims do, and none with `rerank_settle` off."""
    calls: list[str] = []

    def counted(view, jpegs, scores, frames, pick):
        calls.append(how)
        return settle_tie(view, jpegs, scores, frames, pick)

    monkeypatch.setattr(identify_module, "settle_tie", counted)
    settling, never = (inner_off(catalog, rerank_settle=on, rerank_tie=1.0) for on in (True, False))
    queries = kept_queries(catalog, 12, seed=5)
    near_tied = 0
    for index, (style, time) in enumerate(queries):
        episode = catalog.episodes[style.name]
        frame = render_frame(style, episode, time, SIZE)
        for how, query in (("clean", frame), ("trim", crop_trim(frame, random.Random(index)))):
            result = settling.identify(query)
            near_tied += how == "clean" and "rerank" in result.timings
            assert how == "trim" or result.views_searched == 1, result
            count = len(calls)
            never.identify(query)
            assert len(calls) == count
    print("settled", calls.count("trim"), "of", len(queries), "trims; clean re-ranked", near_tied)
    assert near_tied >= 6 and "clean" not in calls and calls.count("trim") >= 6, calls
