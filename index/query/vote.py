"""The pure decisions of identification: pool hits over views, vote titles, judge the answer.

No model, no store: `index.query.identify.Identifier` feeds them hits and thresholds, which lets
the fast tests (`tests/index/query/test_vote.py`) check each rule with hand-built `Hit`s.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal, NamedTuple

from index.types import Hit


@dataclass(frozen=True, slots=True)
class Candidate:
    """A title in the vote; `confidence` is its vote share tempered by its best similarity."""

    title_id: int
    title: str
    confidence: float
    votes: float
    similarity: float  # its best frame's similarity


ReasonCode = Literal["no_close_frame", "ambiguous", "empty_catalog"]


class Doubt(NamedTuple):
    """Why an answer is unknown: a stable `code` for programs, a `reason` for people."""

    code: ReasonCode
    reason: str


def pool_hits(per_view: list[list[Hit]], limit: int) -> list[Hit]:
    """One list of hits over all query views: each frame once, at its best similarity."""
    best: dict[int, Hit] = {}
    for hits in per_view:
        for hit in hits:
            kept = best.get(hit.frame_id)
            if kept is None or hit.similarity > kept.similarity:
                best[hit.frame_id] = hit
    return sorted(best.values(), key=lambda hit: -hit.similarity)[:limit]


def best_view(per_view: list[list[Hit]], frame_id: int) -> int:
    """Index of the query view whose hits hold `frame_id` at its best similarity (0 if none)."""
    scores = [
        max((hit.similarity for hit in hits if hit.frame_id == frame_id), default=-2.0)
        for hits in per_view
    ]
    return max(range(len(scores)), key=scores.__getitem__)


def vote(hits: list[Hit], temperature: float) -> list[Candidate]:
    """Titles ranked by soft votes: sum of exp((sim - best) / T) over each title's hits.

    Frames near the best similarity count about 1, those 3T below count 0.05: a title wins by
    having several close frames, while a crowd of mediocre frames of another title cannot outvote
    one near-exact frame. Confidence = vote share x the title's best similarity (clipped to
    [0, 1]), so a unanimous but distant vote still reads as unsure.
    """
    top = hits[0].similarity
    votes: dict[int, float] = defaultdict(float)
    best: dict[int, Hit] = {}
    for hit in hits:
        votes[hit.title_id] += math.exp((hit.similarity - top) / temperature)
        if hit.title_id not in best:  # hits arrive best first
            best[hit.title_id] = hit
    total = sum(votes.values())
    candidates = [
        Candidate(
            title_id=title_id,
            title=best[title_id].title,
            confidence=(weight / total) * min(1.0, max(0.0, best[title_id].similarity)),
            votes=weight,
            similarity=best[title_id].similarity,
        )
        for title_id, weight in votes.items()
    ]
    candidates.sort(key=lambda candidate: (-candidate.confidence, -candidate.similarity))
    return candidates


def lead(candidates: list[Candidate]) -> float:
    """Confidence lead of the first candidate over the runner-up (over 0 when it stands alone)."""
    runner_up = candidates[1].confidence if len(candidates) > 1 else 0.0
    return candidates[0].confidence - runner_up


def sure_by_vote(
    best: float, candidates: list[Candidate], sure_similarity: float | None, sure_margin: float
) -> bool:
    """Whether a first pass is close and decisive enough to skip the other views (before the
    picture check); `sure_similarity=None` is never sure."""
    if sure_similarity is None or best < sure_similarity:
        return False
    return lead(candidates) >= sure_margin


def pictures_agree(direct: float, mirrored: float, level: float) -> bool:
    """The best hit's thumbnail shows the query as it is: it agrees well, and better than mirrored
    (`index.query.flipcheck` measures both)."""
    return direct >= level and direct > mirrored


def doubt(
    candidates: list[Candidate], best: float, min_similarity: float, min_margin: float
) -> Doubt | None:
    """Why the vote is not an answer (too far, or too close a race); None when it is one."""
    if best < min_similarity:
        return Doubt("no_close_frame", f"best similarity {best:.3f} is below {min_similarity:.3f}")
    margin = lead(candidates)
    if margin < min_margin:
        return Doubt(
            "ambiguous", f"ambiguous: confidence lead {margin:.3f} is below {min_margin:.3f}"
        )
    return None


def near_tie(hits: list[Hit], title_id: int, gap: float) -> bool:
    """Whether the title's two best frames are neighbouring kept frames (one's stretch ends where
    the other's starts) within `gap` in similarity: the vote is sure of the title, not of the
    moment, so the spatial re-rank decides between them (docs/pictures.md)."""
    own = [hit for hit in hits if hit.title_id == title_id][:2]
    if len(own) < 2 or own[0].similarity - own[1].similarity > gap:
        return False
    a, b = own
    if a.source_id != b.source_id or None in (a.start, a.end, b.start, b.end):
        return False
    return math.isclose(a.end, b.start, abs_tol=1e-6) or math.isclose(b.end, a.start, abs_tol=1e-6)
