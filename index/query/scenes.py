"""Group frame hits into scenes with a time span, as trace.moe answers `{from, at, to}`.

Each kept frame stands for a stretch of its source (`Hit.start`-`Hit.end`, stored at ingestion by
shot-aware sampling): one frame of a static shot stands for the whole shot, and a scene built
from it says so instead of naming one second of it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from index.types import Hit

_SAME_TIME_S = 1e-6


@dataclass(frozen=True, slots=True)
class Scene:
    """A run of consecutive kept frames of one source that match about as well as its best.

    `start`/`at`/`end` are trace.moe's `from`/`at`/`to`: the start of the first frame's stretch,
    the best frame's time, and the end of the last frame's stretch. All three are None for
    still-image sources.
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
    frame_ids: tuple[int, ...] = ()  # every hit frame of the scene, in time order


def merge_scenes(hits: Iterable[Hit], drop: float) -> list[Scene]:
    """Scenes best first; each grows from its best hit over neighbouring kept frames.

    Seeds are taken best first; a scene takes in, on either side, hits of the directly next (or
    previous) kept frame of the same source while they are within `drop` of the seed's
    similarity. A kept frame that did not come back as a hit breaks the run, so a scene never
    spans a moment the query does not resemble.
    """
    scenes: list[Scene] = []
    by_source: dict[int, list[Hit]] = defaultdict(list)
    for hit in hits:
        if hit.timestamp is None:  # a still has no neighbours in time
            scenes.append(_scene(hit, [hit]))
        else:
            by_source[hit.source_id].append(hit)
    for run in by_source.values():
        scenes.extend(_source_scenes(run, drop))
    scenes.sort(key=lambda scene: -scene.similarity)
    return scenes


def _source_scenes(hits: list[Hit], drop: float) -> list[Scene]:
    ordered = sorted(hits, key=lambda hit: hit.timestamp)
    taken = [False] * len(ordered)
    scenes = []
    for seed_at in sorted(range(len(ordered)), key=lambda i: -ordered[i].similarity):
        if taken[seed_at]:
            continue
        floor = ordered[seed_at].similarity - drop

        def joins(i: int, nearer: int, floor: float = floor) -> bool:
            """Hit `i` is free, close enough, and its stretch borders the one of hit `nearer`."""
            if not 0 <= i < len(ordered) or taken[i] or ordered[i].similarity < floor:
                return False
            first, second = sorted((ordered[i], ordered[nearer]), key=lambda h: h.timestamp)
            return (
                first.end is not None
                and second.start is not None
                and abs(first.end - second.start) < _SAME_TIME_S
            )

        low = high = seed_at
        while joins(low - 1, low):
            low -= 1
        while joins(high + 1, high):
            high += 1
        for i in range(low, high + 1):
            taken[i] = True
        scenes.append(_scene(ordered[seed_at], ordered[low : high + 1]))
    return scenes


def _scene(best: Hit, run: list[Hit]) -> Scene:
    last = run[-1]
    return Scene(
        title_id=best.title_id,
        title=best.title,
        episode=best.episode,
        source_id=best.source_id,
        start=run[0].start if run[0].start is not None else run[0].timestamp,
        at=best.timestamp,
        end=last.end if last.end is not None else last.timestamp,
        similarity=best.similarity,
        frame_id=best.frame_id,
        frame_ids=tuple(hit.frame_id for hit in run),
    )
