"""Loose image files get their episode from their names: one source per parsed episode."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from index.ingest.ingestor import Ingestor
from index.ingest.sources import plan_sources, source_hash
from index.store.frame_store import FrameStore
from synthetic.render import render_frame
from synthetic.titles import make_titles


def _images(folder: Path, names: list[str]) -> list[Path]:
    paths = []
    for i, name in enumerate(names):
        paths.append(folder / name)
        Image.new("RGB", (8, 8), (i * 30, 20, 200 - i * 30)).save(paths[-1])
    return paths


def _summary(plans) -> list[tuple[str | None, list[str]]]:
    return [(plan.episode, [path.name for path in plan.paths]) for plan in plans]


def test_loose_images_form_one_source_per_episode_in_their_names(tmp_path: Path) -> None:
    paths = _images(
        tmp_path,
        ["Show - 02 - b.png", "cover.png", "Show - 01 - a.png", "Show ep2 c.jpg", "frame.png"],
    )
    plans, errors = plan_sources(paths)
    assert errors == []
    assert _summary(plans) == [
        (None, ["cover.png", "frame.png"]),
        ("1", ["Show - 01 - a.png"]),
        ("2", ["Show - 02 - b.png", "Show ep2 c.jpg"]),
    ]
    assert all(plan.kind == "images" for plan in plans)
    backward, _ = plan_sources(paths[::-1])
    assert [source_hash(p) for p in backward] == [source_hash(p) for p in plans]


def test_an_explicit_episode_keeps_loose_images_in_one_source(tmp_path: Path) -> None:
    paths = _images(tmp_path, ["Show - 01 - a.png", "Show - 02 - b.png", "cover.png"])
    plans, _ = plan_sources(paths, episode="7")
    assert _summary(plans) == [("7", ["Show - 01 - a.png", "Show - 02 - b.png", "cover.png"])]


def test_images_that_agree_make_a_single_source_with_that_episode(tmp_path: Path) -> None:
    paths = _images(tmp_path, ["[Sub] Show - 05 [1080p] 1.png", "Show - 05 - 2.png"])
    plans, _ = plan_sources(paths)
    assert [plan.episode for plan in plans] == ["5"]
    assert len(plans[0].paths) == 2


def test_uploaded_images_reach_the_catalog_with_their_episodes(
    lite0_embedder, tmp_path: Path
) -> None:
    style = make_titles(1, seed=11)[0]
    paths = []
    for episode in (1, 2):
        paths.append(tmp_path / f"{style.name} - {episode:02d}.png")
        render_frame(style, episode, 1.0, size=(160, 90)).save(paths[-1])
    with FrameStore.open(
        tmp_path / "store", dim=lite0_embedder.dim, model_name=lite0_embedder.name
    ) as store:
        report = Ingestor(lite0_embedder, store).ingest(style.name, paths)
        assert report.errors == [] and report.sources_added == 2
        info = store.title(report.title_id)
        assert info is not None and (info.episodes, info.sources, info.frames) == (2, 2, 2)
        query = lite0_embedder.embed([Image.open(paths[1]).convert("RGB")])
        best = store.search(query, 1)[0][0]
        assert best.episode == "2"


@pytest.mark.parametrize("name", ["Screenshot 2024-05-01 at 10.23.45.png", "v1.2.3.png"])
def test_clock_times_and_versions_are_not_episodes(tmp_path: Path, name: str) -> None:
    plans, _ = plan_sources(_images(tmp_path, [name]))
    assert [plan.episode for plan in plans] == [None]


def test_numbered_screenshots_are_frames_of_one_source_not_episodes(tmp_path: Path) -> None:
    plans, _ = plan_sources(_images(tmp_path, ["1.png", "2.png", "10.png"]))
    assert [(episode, len(names)) for episode, names in _summary(plans)] == [(None, 3)]
