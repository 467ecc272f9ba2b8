"""Moments in the middle of the generated titles' sliding and zooming shots, with the shot's
previews around them: where a crop fits a neighbouring frame about as well as its own."""

from __future__ import annotations

from collections.abc import Iterator

from PIL import Image

from index.ingest.mapper import encode_thumbnail
from synthetic.render import render_frame
from synthetic.shots import episode_shots
from synthetic.titles import TitleStyle, make_titles

SIZE = (640, 360)
OFFSETS = (-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5)  # seconds around the queried moment (2 fps)
OWN = OFFSETS.index(0.0)
LONG_ENOUGH = 3.4  # seconds: t +- 1.5 s stays inside the shot


def shot_previews(style: TitleStyle, moment: float) -> list[bytes]:
    """The stored previews of episode 1's frames at `moment` + each of `OFFSETS`."""
    return [encode_thumbnail(render_frame(style, 1, moment + offset, SIZE)) for offset in OFFSETS]


def moving_shot_middles(zooming_only: bool) -> Iterator[tuple[Image.Image, list[bytes]]]:
    """The middle frame of every long enough moving shot (only zooming ones if `zooming_only`)
    of episode 1 of `make_titles(4, seed=3)`, and its `shot_previews`."""
    for style in make_titles(4, seed=3):
        for shot in episode_shots(style, 1, 40.0):
            zooming = shot.cam_from.zoom != shot.cam_to.zoom
            moving = zooming or shot.cam_from != shot.cam_to
            if shot.duration < LONG_ENOUGH or not (zooming if zooming_only else moving):
                continue
            moment = shot.start + shot.duration / 2
            yield render_frame(style, 1, moment, SIZE), shot_previews(style, moment)
