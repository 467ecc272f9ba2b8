"""Fast tier: scene merging on hand-built hits."""

from __future__ import annotations

from index.query.scenes import merge_scenes
from index.types import Hit


def hit(frame_id: int, source_id: int, timestamp: float | None, similarity: float) -> Hit:
    return Hit(
        frame_id=frame_id,
        title_id=source_id // 10,
        title=f"title {source_id // 10}",
        source_id=source_id,
        episode=None if timestamp is None else str(source_id % 10),
        timestamp=timestamp,
        similarity=similarity,
    )


def test_close_hits_of_one_source_join_one_scene_around_the_best_frame() -> None:
    hits = [hit(2, 11, 12.0, 0.95), hit(1, 11, 10.0, 0.90), hit(3, 11, 15.0, 0.85)]
    [scene] = merge_scenes(hits, gap_s=5.0)
    assert (scene.start, scene.at, scene.end) == (10.0, 12.0, 15.0)
    assert (scene.frame_id, scene.similarity, scene.source_id) == (2, 0.95, 11)
    assert (scene.title_id, scene.title, scene.episode) == (1, "title 1", "1")


def test_a_gap_wider_than_the_limit_splits_the_run() -> None:
    hits = [hit(1, 11, 0.0, 0.80), hit(2, 11, 5.0, 0.70), hit(3, 11, 10.01, 0.90)]
    scenes = merge_scenes(hits, gap_s=5.0)
    assert [(s.start, s.end, s.frame_id) for s in scenes] == [(10.01, 10.01, 3), (0.0, 5.0, 1)]


def test_sources_never_merge_and_scenes_are_best_first() -> None:
    hits = [hit(1, 11, 10.0, 0.80), hit(2, 12, 10.0, 0.90), hit(3, 21, 10.5, 0.85)]
    scenes = merge_scenes(hits, gap_s=5.0)
    assert [s.source_id for s in scenes] == [12, 21, 11]


def test_stills_are_scenes_of_their_own() -> None:
    hits = [hit(1, 30, None, 0.9), hit(2, 30, None, 0.8)]
    scenes = merge_scenes(hits, gap_s=5.0)
    assert [(s.frame_id, s.start, s.at, s.end) for s in scenes] == [
        (1, None, None, None),
        (2, None, None, None),
    ]


def test_zero_gap_merges_only_equal_timestamps() -> None:
    hits = [hit(1, 11, 3.0, 0.9), hit(2, 11, 3.0, 0.8), hit(3, 11, 3.5, 0.7)]
    assert len(merge_scenes(hits, gap_s=0.0)) == 2
    assert merge_scenes([], gap_s=5.0) == []
