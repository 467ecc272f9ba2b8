"""Merge frame hits of one source that lie close in time into scenes, as trace.moe answers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from index.types import Hit


@dataclass(frozen=True, slots=True)
class Scene:
    """A run of matching frames of one source: `start`/`at`/`end` are trace.moe's `from`/`at`/`to`.

    `at` is the timestamp of the best frame; all three are None for still-image sources.
    """

    title_id: int
    title: str
    episode: str | None
    source_id: int
    start: float | None
    at: float | None
    end: float | None
    similarity: float
    frame_id: int  # the best frame, whose thumbnail illustrates the scene


def merge_scenes(hits: Iterable[Hit], gap_s: float) -> list[Scene]:
    """Scenes best first; hits of one source closer than `gap_s` seconds join one scene."""
    by_source: dict[int, list[Hit]] = defaultdict(list)
    scenes: list[Scene] = []
    for hit in hits:
        if hit.timestamp is None:  # a still has no neighbours in time
            scenes.append(_scene([hit]))
        else:
            by_source[hit.source_id].append(hit)
    for source_hits in by_source.values():
        source_hits.sort(key=lambda hit: hit.timestamp)
        run = [source_hits[0]]
        for hit in source_hits[1:]:
            if hit.timestamp - run[-1].timestamp <= gap_s:
                run.append(hit)
            else:
                scenes.append(_scene(run))
                run = [hit]
        scenes.append(_scene(run))
    scenes.sort(key=lambda scene: -scene.similarity)
    return scenes


def _scene(run: list[Hit]) -> Scene:
    best = max(run, key=lambda hit: hit.similarity)
    return Scene(
        title_id=best.title_id,
        title=best.title,
        episode=best.episode,
        source_id=best.source_id,
        start=run[0].timestamp,
        at=best.timestamp,
        end=run[-1].timestamp,
        similarity=best.similarity,
        frame_id=best.frame_id,
    )
