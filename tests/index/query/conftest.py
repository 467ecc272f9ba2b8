"""The identify tests' catalog: two generated episodes ingested with the real Lite0, built once
for `test_identify.py` and `test_identify_rerank.py`."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from index.ingest.ingestor import Ingestor
from index.ingest.readers import read_video
from index.query.identify import Identifier
from index.query.params import IdentifyParams
from index.store.frame_store import FrameStore
from synthetic.shots import shot_at
from synthetic.titles import TitleStyle, make_titles
from synthetic.video import write_episode

SIZE = (480, 270)
INTERVAL = 0.5  # 2 fps
QUERIED = ("crop70", "letterbox", "flip", "subtitle", "jpeg25", "downscale240", "tint",
           "player_window")  # fmt: skip


@dataclass
class Catalog:
    embedder: object
    store: FrameStore
    data_dir: Path
    titles: list[TitleStyle]  # [in catalog, in catalog, never added]
    episodes: dict[str, int]
    kept: dict[str, list[float]]  # timestamps of the frames the reader keeps, per title
    videos: Path

    def identifier(self) -> Identifier:
        return Identifier(self.embedder, self.store, IdentifyParams())


@pytest.fixture(scope="package")
def catalog(lite0_embedder, tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    root = tmp_path_factory.mktemp("identify")
    titles = make_titles(3, seed=21)
    episodes = {titles[0].name: 1, titles[1].name: 2}
    store = FrameStore.open(root / "store", dim=lite0_embedder.dim, model_name=lite0_embedder.name)
    ingestor = Ingestor(lite0_embedder, store, batch_size=16, fps=2.0)
    kept = {}
    for style in titles[:2]:
        episode = episodes[style.name]
        path = root / "videos" / f"{style.name} - {episode:02d}.mp4"
        write_episode(style, episode, path, seconds=20, size=SIZE)
        report = ingestor.ingest(style.name, [path])
        assert report.errors == [] and report.sources_added == 1
        kept[style.name] = [frame.timestamp for frame in read_video(path)]
    yield Catalog(lite0_embedder, store, root / "store", titles, episodes, kept, root / "videos")
    store.close()


def kept_queries(catalog: Catalog, count: int, seed: int) -> list[tuple[TitleStyle, float]]:
    """Frames at times the reader kept, so the exact frame is in the catalog to be found."""
    rng = random.Random(seed)
    picks = []
    for index in range(count):
        style = catalog.titles[index % 2]
        picks.append((style, rng.choice(catalog.kept[style.name][1:-1])))
    return picks


def inner_off(catalog: Catalog, **params) -> Identifier:
    """An identifier without the picture-inside views, with these other knobs."""
    return Identifier(catalog.embedder, catalog.store, IdentifyParams(inner=False, **params))


def same_moment(style: TitleStyle, episode: int, found: float, truth: float, how: str) -> bool:
    """Within one sampling interval; for a crop, within the same shot.

    A 70% crop of a panning or zooming shot is, pixel for pixel, close to what the camera showed
    at another moment of that shot, so only the shot is well defined (bench/robustness.py reports
    the exact-frame rate for crops too).
    """
    if abs(found - truth) <= INTERVAL + 1e-3:
        return True
    return "crop" in how and shot_at(style, episode, found) == shot_at(style, episode, truth)
