"""Identification end to end: generated episodes ingested with the real Lite0, perturbed queries."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from index.ingest.ingestor import Ingestor
from index.ingest.readers import read_video
from index.query.identify import Identifier
from index.query.params import IdentifyParams
from index.query.screenshot import video_sized
from index.query.vote import near_tie
from index.store.frame_store import FrameStore
from synthetic.perturb import PERTURBATIONS
from synthetic.pictures import PICTURES, STACKABLE
from synthetic.render import render_frame
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


@pytest.fixture(scope="module")
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


def _queries(catalog: Catalog, count: int, seed: int) -> list[tuple[TitleStyle, float]]:
    """Frames at times the reader kept, so the exact frame is in the catalog to be found."""
    rng = random.Random(seed)
    picks = []
    for index in range(count):
        style = catalog.titles[index % 2]
        picks.append((style, rng.choice(catalog.kept[style.name][1:-1])))
    return picks


def _inner_off(catalog: Catalog, **params) -> Identifier:
    """An identifier without the picture-inside views, with these other knobs."""
    return Identifier(catalog.embedder, catalog.store, IdentifyParams(inner=False, **params))


def _same_moment(style: TitleStyle, episode: int, found: float, truth: float, how: str) -> bool:
    """Within one sampling interval; for a crop, within the same shot.

    A 70% crop of a panning or zooming shot is, pixel for pixel, close to what the camera showed
    at another moment of that shot, so only the shot is well defined (bench/robustness.py reports
    the exact-frame rate for crops too).
    """
    if abs(found - truth) <= INTERVAL + 1e-3:
        return True
    return "crop" in how and shot_at(style, episode, found) == shot_at(style, episode, truth)


@pytest.mark.parametrize("perturbation", QUERIED)
def test_perturbed_frames_give_title_episode_and_second(catalog: Catalog, perturbation) -> None:
    identifier = catalog.identifier()
    rng = random.Random(perturbation)
    for style, time in _queries(catalog, 4, seed=len(perturbation)):
        episode = catalog.episodes[style.name]
        query = PERTURBATIONS[perturbation](render_frame(style, episode, time, SIZE), rng)
        result = identifier.identify(query, top_k=2)
        assert result.match is not None, (time, result.reason)
        assert result.match.title == style.name
        assert result.match.episode == str(episode)
        assert _same_moment(style, episode, result.match.timestamp, time, perturbation), (
            time,
            result.match,
        )
        assert 0.0 < result.match.confidence <= 1.0
        assert result.candidates[0].title == style.name
        assert result.neighbors[0].similarity == pytest.approx(result.best_similarity)
        best_scene = result.scenes[0]
        assert best_scene.start <= best_scene.at <= best_scene.end


def test_unseen_title_is_unknown(catalog: Catalog) -> None:
    identifier = catalog.identifier()
    unseen = catalog.titles[2]
    rng = random.Random(0)
    for _ in range(4):
        result = identifier.identify(render_frame(unseen, 1, rng.uniform(0, 20), SIZE))
        assert result.match is None and result.reason


def test_empty_store_is_unknown(lite0_embedder, tmp_path: Path) -> None:
    with FrameStore.open(tmp_path, dim=lite0_embedder.dim, model_name=lite0_embedder.name) as store:
        result = Identifier(lite0_embedder, store).identify(Image.new("RGB", (64, 36), "red"))
    assert result.match is None and result.candidates == [] and result.neighbors == []


def test_removed_title_is_no_longer_returned(catalog: Catalog) -> None:
    style = make_titles(4, seed=99)[3]
    path = catalog.videos / "removable.mp4"
    write_episode(style, 1, path, seconds=4, size=SIZE)
    report = Ingestor(catalog.embedder, catalog.store).ingest(style.name, [path])
    query = render_frame(style, 1, 2.0, SIZE)
    identifier = catalog.identifier()
    assert identifier.identify(query).match.title == style.name
    assert catalog.store.remove_title(report.title_id)
    after = identifier.identify(query)
    assert after.match is None or after.match.title != style.name
    assert all(hit.title_id != report.title_id for hit in after.neighbors)


def test_reopened_store_gives_the_same_answer(catalog: Catalog) -> None:
    style = catalog.titles[0]
    query = PERTURBATIONS["jpeg25"](render_frame(style, 1, 7.0, SIZE), random.Random(1))
    before = catalog.identifier().identify(query)
    catalog.store.close()
    catalog.store = FrameStore.open(
        catalog.data_dir, dim=catalog.embedder.dim, model_name=catalog.embedder.name
    )
    after = catalog.identifier().identify(query)
    assert after.match == before.match
    assert [hit.frame_id for hit in after.neighbors] == [hit.frame_id for hit in before.neighbors]


def test_mirror_off_searches_fewer_views(catalog: Catalog) -> None:
    """A flipped query with mirroring off matches less well than with it on."""
    style = catalog.titles[1]
    query = PERTURBATIONS["flip"](render_frame(style, 2, 5.0, SIZE), random.Random(2))
    every_view = IdentifyParams(sure_similarity=None)  # else a sure first pass skips the mirror
    on = Identifier(catalog.embedder, catalog.store, every_view).identify(query)
    off = Identifier(catalog.embedder, catalog.store, IdentifyParams(mirror=False)).identify(query)
    assert on.best_similarity > off.best_similarity


def test_clean_query_takes_one_pass_and_flipped_query_is_identified(catalog: Catalog) -> None:
    """A clean frame is answered by its first view alone, exactly as when every view is searched;
    a flipped one is still identified, on one pass or two; a frame of an unseen title is not sure,
    so every view is searched before it is called unknown."""
    style = catalog.titles[0]
    (_, time), *_ = _queries(catalog, 1, seed=5)
    clean = render_frame(style, 1, time, SIZE)
    adaptive = catalog.identifier()
    every_view = Identifier(catalog.embedder, catalog.store, IdentifyParams(sure_similarity=None))

    fast, full = adaptive.identify(clean), every_view.identify(clean)
    assert fast.views_searched == 1 and full.views_searched >= 2  # + any picture inside
    assert fast.match is not None and fast.match.title == style.name
    assert fast.match.frame_id == full.match.frame_id
    assert fast.best_similarity >= adaptive.params.sure_similarity

    flip = PERTURBATIONS["flip"](clean, random.Random(3))
    picky = Identifier(catalog.embedder, catalog.store, IdentifyParams(sure_similarity=0.999))
    for identifier in (adaptive, picky):
        flipped = identifier.identify(flip)
        assert flipped.match is not None and flipped.match.title == style.name
        assert abs(flipped.match.timestamp - time) <= INTERVAL + 1e-3
    assert flipped.views_searched >= 2  # the picky identifier was never sure
    assert flipped.timings["embed"] > 0 and flipped.timings["search"] > 0

    unseen = adaptive.identify(render_frame(catalog.titles[2], 1, 3.0, SIZE))
    assert unseen.match is None and unseen.views_searched >= 2


def test_flipped_query_is_caught_by_the_picture_check(catalog: Catalog) -> None:
    """A flip's first pass is similar enough to be sure, but its best hit's thumbnail agrees only
    mirrored, so the mirror view is searched and finds the exact moment."""
    style = catalog.titles[1]
    for time in random.Random(8).sample(catalog.kept[style.name][1:-1], 2):
        flip = PERTURBATIONS["flip"](render_frame(style, 2, time, SIZE), random.Random(0))
        one_pass = IdentifyParams(sure_similarity=-1.0, sure_agreement=None)  # first pass only
        first = Identifier(catalog.embedder, catalog.store, one_pass).identify(flip)
        assert first.views_searched == 1
        assert first.best_similarity >= catalog.identifier().params.sure_similarity

        result = catalog.identifier().identify(flip)
        assert result.match.view == "mirrored" and "flipcheck" in result.timings
        assert result.match is not None and result.match.title == style.name
        assert abs(result.match.timestamp - time) <= INTERVAL + 1e-3


def test_bad_parameters_are_rejected() -> None:
    with pytest.raises(ValueError, match="search_k"):
        IdentifyParams(search_k=0)
    with pytest.raises(ValueError, match="min_margin"):
        IdentifyParams(min_margin=2.0)
    with pytest.raises(ValueError, match="sure_similarity"):
        IdentifyParams(sure_similarity=1.5)
    with pytest.raises(ValueError, match="sure_margin"):
        IdentifyParams(sure_margin=-0.1)
    with pytest.raises(ValueError, match="sure_agreement"):
        IdentifyParams(sure_agreement=1.5)
    with pytest.raises(ValueError, match="rerank_candidates"):
        IdentifyParams(rerank_candidates=-1)
    with pytest.raises(ValueError, match="rerank_margin"):
        IdentifyParams(rerank_margin=-0.1)
    with pytest.raises(ValueError, match="rerank_tie"):
        IdentifyParams(rerank_tie=-0.1)


@pytest.mark.slow
def test_only_unsure_queries_with_exact_edges_are_reranked(catalog: Catalog) -> None:
    """The spatial re-rank runs after a second pass of a screenshot that needed no crop (70%
    crops mostly) or only bars trimmed (a cropped, letterboxed meme), never on a sure clean
    query, nor on a found player window (its inexact edges moved right answers); when it runs,
    the answer stays at the right title and moment. Pictures found inside are off here: they are
    re-ranked on their own view (tested below); so are sure near-ties and edited pictures
    (tested next)."""
    identifier = _inner_off(catalog, rerank_tie=None, rerank_edited=False)
    style = catalog.titles[0]
    reranked = windows = barred = 0
    edits = {
        "crop70": PERTURBATIONS["crop70"],
        "player_window": PERTURBATIONS["player_window"],
        "barred crop": lambda image, rng: PERTURBATIONS["letterbox"](
            PERTURBATIONS["crop70"](image, rng), rng
        ),
    }
    for index, (_, time) in enumerate(_queries(catalog, 12, seed=9)):
        frame = render_frame(style, 1, time, SIZE)
        clean = identifier.identify(frame)
        assert clean.views_searched == 1 and "rerank" not in clean.timings
        rng = random.Random(index)
        for how, edit in edits.items():
            result = identifier.identify(edit(frame, rng))
            second_pass = result.views_searched > 1
            exact_edges = result.views_searched == 2 or how == "barred crop"
            assert ("rerank" in result.timings) == (second_pass and exact_edges), (how, result)
            windows += how == "player_window" and result.views_searched == 3
            barred += how == "barred crop" and "rerank" in result.timings
            if "rerank" in result.timings:
                reranked += 1
                assert result.match is not None and result.match.title == style.name
                assert _same_moment(style, 1, result.match.timestamp, time, how)
    assert reranked >= 3 and windows >= 1 and barred >= 1, (reranked, windows, barred)
    off = Identifier(catalog.embedder, catalog.store, IdentifyParams(rerank_candidates=0))
    query = PERTURBATIONS["crop70"](render_frame(style, 1, 7.0, SIZE), random.Random(0))
    assert "rerank" not in off.identify(query).timings


@pytest.mark.slow
def test_a_sure_answer_between_two_neighbouring_frames_is_reranked(catalog: Catalog) -> None:
    """A sure first-pass answer is re-ranked exactly when the winning title's two best frames are
    neighbouring kept frames within `rerank_tie` in similarity, window views too, and it stays
    at the right moment; `rerank_tie=None` never re-ranks a sure answer. (A wide tie here, so
    that this small catalog has some; the default's cost and gains: docs/pictures.md.)"""
    tie = 0.05
    tied, never = (
        _inner_off(catalog, rerank_tie=level, rerank_edited=False) for level in (tie, None)
    )
    style = catalog.titles[0]
    sure = reranked = 0
    for index, (_, time) in enumerate(_queries(catalog, 12, seed=5)):
        frame = render_frame(style, 1, time, SIZE)
        for how in ("jpeg25", "player_window"):
            query = PERTURBATIONS[how](frame, random.Random(index))
            result = tied.identify(query)
            if result.views_searched != 1:
                continue
            sure += 1
            match = result.match
            near = near_tie(result.neighbors, match.title_id, tie)
            assert ("rerank" in result.timings) == near, (how, time, result)
            assert "rerank" not in never.identify(query).timings
            if near:
                reranked += 1
                assert match.title == style.name and _same_moment(
                    style, 1, match.timestamp, time, how
                ), (how, time, match)
    print("sure", sure, "re-ranked", reranked)
    assert sure >= 6 and reranked >= 1, (sure, reranked)


@pytest.mark.slow
def test_a_sure_answer_of_an_edited_picture_is_reranked(catalog: Catalog) -> None:
    """A sure first-pass answer is re-ranked when the screenshot's size is no video frame's (a
    meme trim, bars added to an odd size); never for a picture of a video's size (clean,
    re-encoded, tinted, a 4:3 letterbox), nor one searched uncut, nor with `rerank_edited` off.
    Re-ranked, its frame's stretch holds the moment (a trim: the same shot). The near-tie rule
    is off here (docs/pictures.md, 2026-12-01 00:40)."""
    edited, never = (_inner_off(catalog, rerank_tie=None, rerank_edited=on) for on in (True, False))
    edits = {
        "clean": lambda image, rng: image,
        "jpeg25": PERTURBATIONS["jpeg25"],
        "tint": PERTURBATIONS["tint"],
        "letterbox": PERTURBATIONS["letterbox"],
        "crop_trim": STACKABLE["crop_trim"],
    }
    style = catalog.titles[0]
    reranked = dict.fromkeys(edits, 0)
    at_video_size = 0  # letterboxed to 4:3 (a video's size): not re-ranked
    for index, (_, time) in enumerate(_queries(catalog, 12, seed=13)):
        frame = render_frame(style, 1, time, SIZE)
        for how, edit in edits.items():
            query = edit(frame, random.Random(index))
            result = edited.identify(query)
            if result.views_searched != 1:  # unsure: re-ranked by the other rule
                continue
            expected = how == "crop_trim" or (how == "letterbox" and not video_sized(query.size))
            at_video_size += how == "letterbox" and not expected
            assert ("rerank" in result.timings) == expected, (how, query.size, result)
            assert "rerank" not in never.identify(query).timings
            uncut = edited.identify(query, cut_borders=False)  # bars may still be in it
            assert uncut.views_searched > 1 or "rerank" not in uncut.timings, (how, uncut)
            if expected:
                reranked[how] += 1
                match = result.match
                # the kept frame whose stretch holds the moment (the store keeps fewer frames
                # than the reader), or for a trim of a moving shot, the same shot
                held = match.start - 1e-3 <= time <= match.end + 1e-3
                assert match.title == style.name and (
                    held
                    or _same_moment(style, 1, match.timestamp, time, "crop" * (how != "letterbox"))
                ), (how, time, match)
    print("re-ranked", reranked, "letterboxed at a video's size", at_video_size)
    assert reranked["letterbox"] >= 2 and reranked["crop_trim"] >= 4 and at_video_size >= 2, (
        reranked,
        at_video_size,
    )


@pytest.mark.parametrize(
    ("how", "view", "least"), [("picture_in_picture", "inner", 2), ("screen_photo", "rectified", 2)]
)
def test_a_picture_of_the_frame_is_found_through_the_picture_inside(
    catalog: Catalog, how, view, least
):
    """A frame in a window over another picture, or on a screen photographed at an angle, is
    answered from the picture found inside (`Match.view` says which) at its second; never as
    another title. Without the inner views, none is answered so.
    (bench/robustness.py --inner measures the rates; a dim, moire-striped screen is often
    below `min_similarity`, so unknown.)"""
    adaptive, off = catalog.identifier(), _inner_off(catalog)
    found = without = 0
    for index, (style, time) in enumerate(_queries(catalog, 6, seed=13)):
        episode = catalog.episodes[style.name]
        query = PICTURES[how](render_frame(style, episode, time, SIZE), random.Random(index))
        result = adaptive.identify(query)
        assert result.match is None or result.match.title == style.name, (time, result.match)
        # a window may already be cut out as a player window ("trimmed") and be sure at once
        found += bool(result.match) and result.match.view in (view, "trimmed")
        found -= bool(result.match) and abs(result.match.timestamp - time) > 1.0
        answer = off.identify(query).match
        without += answer is not None and abs(answer.timestamp - time) <= 1.0
    print(how, found, without)
    assert found >= least and found > without, (found, without)
    plain = adaptive.identify(render_frame(style, episode, time, SIZE))
    assert plain.match.view == "full" and "inner" not in plain.timings
