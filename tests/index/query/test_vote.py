"""Fast tier: the vote, pooling, the "sure" check and the unknown decision on hand-built hits."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from index.query.vote import (
    Candidate,
    best_view,
    doubt,
    lead,
    near_tie,
    pictures_agree,
    pool_hits,
    sure_by_vote,
    vote,
)
from index.types import Hit


def hit(frame_id: int, title_id: int, similarity: float, timestamp: float | None = 0.0) -> Hit:
    return Hit(
        frame_id=frame_id,
        title_id=title_id,
        title=f"title {title_id}",
        source_id=title_id * 10,
        episode="1",
        timestamp=timestamp,
        similarity=similarity,
    )


def candidate(title_id: int, confidence: float, similarity: float = 0.9) -> Candidate:
    return Candidate(title_id, f"title {title_id}", confidence, 1.0, similarity)


def test_the_view_that_found_a_frame_is_the_one_closest_to_it() -> None:
    first = [hit(1, 1, 0.80), hit(2, 1, 0.70)]
    mirror = [hit(1, 1, 0.90), hit(3, 2, 0.75)]
    inner = [hit(2, 1, 0.95)]
    assert best_view([first, mirror, inner], 1) == 1
    assert best_view([first, mirror, inner], 2) == 2
    assert best_view([first, mirror, inner], 3) == 1
    assert best_view([first], 99) == 0  # not found: the primary view


def test_pool_keeps_each_frame_once_at_its_best_similarity() -> None:
    first = [hit(1, 1, 0.80), hit(2, 1, 0.70)]
    mirror = [hit(1, 1, 0.90), hit(3, 2, 0.75)]
    pooled = pool_hits([first, mirror], limit=10)
    assert [(h.frame_id, h.similarity) for h in pooled] == [(1, 0.90), (3, 0.75), (2, 0.70)]


def test_pool_is_best_first_and_cut_to_the_limit() -> None:
    pooled = pool_hits([[hit(i, 1, i / 10) for i in range(1, 8)]], limit=3)
    assert [h.frame_id for h in pooled] == [7, 6, 5]
    assert pool_hits([[], []], limit=3) == []


def test_vote_weighs_each_hit_by_its_distance_from_the_best() -> None:
    temperature = 0.03
    hits = [hit(1, 1, 0.95), hit(2, 2, 0.92), hit(3, 1, 0.89)]
    by_title = {c.title_id: c for c in vote(hits, temperature)}
    assert by_title[1].votes == pytest.approx(1 + math.exp(-0.06 / temperature))
    assert by_title[2].votes == pytest.approx(math.exp(-0.03 / temperature))
    total = by_title[1].votes + by_title[2].votes
    assert by_title[1].confidence == pytest.approx(by_title[1].votes / total * 0.95)
    assert by_title[2].similarity == 0.92
    assert by_title[1].title == "title 1"


def test_many_mediocre_frames_cannot_outvote_one_near_exact_frame() -> None:
    crowd = [hit(10 + i, 2, 0.80) for i in range(30)]  # 30 frames 5T below the best
    candidates = vote([hit(1, 1, 0.95), *crowd], temperature=0.03)
    assert [c.title_id for c in candidates] == [1, 2]
    share = 1 / (1 + 30 * math.exp(-5))  # each crowd frame counts exp(-5), about 0.007
    assert candidates[0].confidence == pytest.approx(share * 0.95)


def test_several_close_frames_beat_one_slightly_better_frame() -> None:
    hits = [hit(1, 1, 0.95), hit(2, 2, 0.94), hit(3, 2, 0.94), hit(4, 2, 0.93)]
    assert vote(hits, temperature=0.03)[0].title_id == 2


def test_confidence_is_tempered_by_similarity_and_clipped() -> None:
    distant = vote([hit(1, 1, 0.40), hit(2, 1, 0.39)], temperature=0.03)
    assert distant[0].confidence == pytest.approx(0.40)  # unanimous but far
    negative = vote([hit(1, 1, -0.20)], temperature=0.03)
    assert negative[0].confidence == 0.0


def test_lead_over_runner_up_or_over_nothing() -> None:
    assert lead([candidate(1, 0.7), candidate(2, 0.2)]) == pytest.approx(0.5)
    assert lead([candidate(1, 0.6)]) == pytest.approx(0.6)


@pytest.mark.parametrize(
    ("best", "confidences", "sure_similarity", "expected"),
    [
        (0.95, [0.9, 0.05], 0.90, True),
        (0.89, [0.9, 0.05], 0.90, False),  # not close enough
        (0.95, [0.5, 0.4], 0.90, False),  # a near-tie
        (0.99, [0.9], None, False),  # adaptive search off: never sure
        (0.90, [0.25], 0.90, True),  # both levels are inclusive
    ],
)
def test_sure_needs_similarity_and_a_lead(best, confidences, sure_similarity, expected) -> None:
    candidates = [candidate(i, c) for i, c in enumerate(confidences)]
    assert sure_by_vote(best, candidates, sure_similarity, sure_margin=0.25) is expected


def test_pictures_agree_only_when_direct_is_high_and_beats_mirrored() -> None:
    assert pictures_agree(0.95, 0.80, level=0.90)
    assert not pictures_agree(0.85, 0.10, level=0.90)  # too weak
    assert not pictures_agree(0.95, 0.97, level=0.90)  # a flipped query: mirrored agrees better
    assert not pictures_agree(0.95, 0.95, level=0.90)


def test_doubt_explains_too_far_and_too_close() -> None:
    clear = [candidate(1, 0.8), candidate(2, 0.1)]
    assert doubt(clear, best=0.9, min_similarity=0.82, min_margin=0.1) is None
    far = doubt(clear, best=0.7, min_similarity=0.82, min_margin=0.1)
    assert far == ("no_close_frame", "best similarity 0.700 is below 0.820")
    close = doubt([candidate(1, 0.45), candidate(2, 0.40)], 0.9, 0.82, 0.1)
    assert close == ("ambiguous", "ambiguous: confidence lead 0.050 is below 0.100")


def test_distance_is_judged_before_the_race() -> None:
    tied = [candidate(1, 0.4), candidate(2, 0.4)]
    assert doubt(tied, best=0.5, min_similarity=0.82, min_margin=0.1).code == "no_close_frame"


def test_a_near_tie_is_two_neighbouring_kept_frames_of_the_title_nearly_level() -> None:
    def kept(frame_id: int, title_id: int, similarity: float, start: float, source: int = 10):
        at = Hit(frame_id, title_id, f"title {title_id}", source, "1", start, similarity)
        return replace(at, start=start, end=start + 0.5)

    neighbours = [kept(1, 1, 0.95, 0.0), kept(2, 2, 0.94, 9.0, 20), kept(3, 1, 0.945, 0.5)]
    assert near_tie(neighbours, 1, 0.01)  # the other title's frame in between does not count
    assert not near_tie(neighbours, 1, 0.001)  # not level enough
    apart = [kept(1, 1, 0.95, 0.0), kept(3, 1, 0.945, 1.0)]
    other_source = [kept(1, 1, 0.95, 0.0), kept(3, 1, 0.945, 0.5, source=11)]
    assert not near_tie(apart, 1, 0.01) and not near_tie(other_source, 1, 0.01)
    assert not near_tie([kept(1, 1, 0.95, 0.0)], 1, 0.01)  # one frame: nothing to decide
    assert not near_tie([hit(1, 1, 0.95), hit(2, 1, 0.95)], 1, 0.01)  # stretches unknown
