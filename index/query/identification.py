"""What an identification returns: the match (a frame or only a title) and the whole answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from index.query.scenes import Scene
from index.query.vote import Candidate, ReasonCode
from index.types import Hit

MatchKind = Literal["frame", "title"]


@dataclass(frozen=True, slots=True)
class Match:
    """The answer: the winning title and, for a frame match, from its best scene, the episode
    and second. A title match (`kind="title"`, from `index.query.titlehead`) names the title
    only: no frame was close enough to say where in it the screenshot comes from.

    `start`/`end` bound the scene of the matched frame (`index.query.scenes`): the moment of the
    screenshot lies in between, `timestamp` is the matched frame's own time.
    """

    title_id: int
    title: str
    confidence: float
    similarity: float
    episode: str | None
    timestamp: float | None
    frame_id: int | None
    source_id: int | None
    kind: MatchKind = "frame"
    view: str = "full"  # the query view that found the frame: full, trimmed, mirrored, inner, ...
    start: float | None = None
    end: float | None = None

    @property
    def at(self) -> float | None:
        """The matched frame's time, under the name scenes give it (`Scene.at`)."""
        return self.timestamp


@dataclass(frozen=True, slots=True)
class Identification:
    """`match` is None for unknown; `reason` then says why (empty catalog, too far, ambiguous)
    and `reason_code` says it for programs (`index.query.vote.ReasonCode`).

    `scenes` are the best scenes across titles, best first (trace.moe's result list).
    `views_searched` is how many query views were embedded: 1 when the first pass was sure.
    """

    match: Match | None
    candidates: list[Candidate]
    neighbors: list[Hit]
    scenes: list[Scene]
    best_similarity: float | None
    reason: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    views_searched: int = 0
    reason_code: ReasonCode | None = None
