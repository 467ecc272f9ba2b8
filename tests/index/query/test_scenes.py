"""Fast tier: scenes from hand-built hits; each kept frame stands for its stretch [start, end)."""

from __future__ import annotations

from index.query.scenes import merge_scenes
from index.types import Hit


def hit(
    frame_id: int,
    source_id: int,
    timestamp: float | None,
    similarity: float,
    end: float | None = None,
    start: float | None = None,
) -> Hit:
    return Hit(
        frame_id=frame_id,
        title_id=source_id // 10,
        title=f"title {source_id // 10}",
        source_id=source_id,
        episode=None if timestamp is None else str(source_id % 10),
        timestamp=timestamp,
        similarity=similarity,
        start=timestamp if start is None else start,
        end=end,
    )


def test_a_static_shot_is_reported_as_the_whole_shot() -> None:
    # One kept frame at 0.0 stood for the still shot 0-3 s; the next kept is 3.0.
    [scene, _] = merge_scenes([hit(1, 11, 0.0, 0.97, end=3.0), hit(2, 11, 3.0, 0.6, 3.5)], 0.02)
    assert (scene.start, scene.at, scene.end) == (0.0, 0.0, 3.0)


def test_a_scene_runs_from_its_first_stretch_start_to_its_last_stretch_end() -> None:
    # Kept frames in the middle of their stretches (a pan): 0.8 stands for 0-1.6, 2.4 for 1.6-3.
    hits = [hit(1, 11, 0.8, 0.95, end=1.6, start=0.0), hit(2, 11, 2.4, 0.94, end=3.0, start=1.6)]
    [scene] = merge_scenes(hits, 0.02)
    assert (scene.start, scene.at, scene.end, scene.frame_ids) == (0.0, 0.8, 3.0, (1, 2))


def test_the_last_frame_stands_until_the_source_ends_and_unknown_ends_stay_closed() -> None:
    [known] = merge_scenes([hit(1, 11, 9.5, 0.9, end=12.0)], 0.02)
    [unknown] = merge_scenes([hit(1, 11, 9.5, 0.9, end=None)], 0.02)
    assert (known.start, known.end) == (9.5, 12.0)
    assert (unknown.start, unknown.end) == (9.5, 9.5)


def test_neighbouring_kept_frames_about_as_close_join_the_scene_around_the_best() -> None:
    hits = [
        hit(2, 11, 1.0, 0.95, end=1.5),
        hit(1, 11, 0.5, 0.94, end=1.0),
        hit(3, 11, 1.5, 0.935, end=2.0),
        hit(4, 11, 2.0, 0.80, end=2.5),  # too far below the best: its own scene
    ]
    scenes = merge_scenes(hits, drop=0.02)
    assert [(s.start, s.at, s.end, s.frame_id) for s in scenes] == [
        (0.5, 1.0, 2.0, 2),
        (2.0, 2.0, 2.5, 4),
    ]
    assert scenes[0].frame_ids == (1, 2, 3)
    assert (scenes[0].similarity, scenes[0].title_id, scenes[0].episode) == (0.95, 1, "1")


def test_a_kept_frame_missing_from_the_hits_splits_the_run() -> None:
    # 1.0's stretch ends at 1.5, a kept frame that did not come back: 2.0 is not its neighbour.
    hits = [hit(1, 11, 1.0, 0.95, end=1.5), hit(2, 11, 2.0, 0.95, end=2.5)]
    assert [(s.start, s.end) for s in merge_scenes(hits, drop=0.5)] == [(1.0, 1.5), (2.0, 2.5)]


def test_sources_never_merge_and_scenes_are_best_first() -> None:
    # The same opening in three episodes: three scenes, one per episode, best first.
    hits = [hit(1, 11, 10.0, 0.80, 10.5), hit(2, 12, 10.0, 0.90, 10.5), hit(3, 21, 10.0, 0.85)]
    scenes = merge_scenes(hits, drop=0.5)
    assert [s.source_id for s in scenes] == [12, 21, 11]


def test_stills_are_scenes_of_their_own() -> None:
    hits = [hit(1, 30, None, 0.9), hit(2, 30, None, 0.8)]
    scenes = merge_scenes(hits, drop=0.5)
    assert [(s.frame_id, s.start, s.at, s.end) for s in scenes] == [
        (1, None, None, None),
        (2, None, None, None),
    ]
    assert merge_scenes([], drop=0.02) == []
