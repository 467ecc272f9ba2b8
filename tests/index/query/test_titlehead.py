"""The per-title head: fitted on a real catalog of generated titles, refitted as it changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from index.query.colour import (
    COLOUR_DIM,
    catalog_colours,
    colour_histogram,
    stored_colours,
    thumbnail_colours,
)
from index.query.identify import Identifier
from index.query.params import IdentifyParams
from index.query.titlehead import (
    TitleHead,
    decide,
    fit_softmax,
    fit_title_model,
    gate_score,
    principal_axes,
    sample_per_title,
)
from index.store.catalog import CATALOG_FILE
from index.store.frame_store import FrameStore
from synthetic.render import render_frame
from synthetic.titles import make_titles
from tests.index.storekit import as_older_schema, clustered, frames_of, source

SIZE = (320, 180)
TIMES = [1.0 + 2.5 * i for i in range(12)]  # about one frame per shot of a 30 s episode


def _add_episode(store: FrameStore, embedder, style, episode: int, *, colours: bool = True) -> None:
    images = [render_frame(style, episode, t, SIZE) for t in TIMES]
    records = frames_of(images, f"{style.name}-{episode}", colours=colours)
    store.add(
        source(style.name, f"{style.name}-{episode}", str(episode)), records, embedder.embed(images)
    )


@pytest.fixture(scope="module")
def catalog(lite0_embedder, tmp_path_factory: pytest.TempPathFactory):
    """Three generated titles with episodes 1 and 2 catalogued; episode 3 is never added."""
    titles = make_titles(3, seed=5)
    store = FrameStore.open(
        tmp_path_factory.mktemp("titlehead") / "store",
        dim=lite0_embedder.dim,
        model_name=lite0_embedder.name,
    )
    for style in titles:
        for episode in (1, 2):
            _add_episode(store, lite0_embedder, style, episode)
    yield store, titles
    store.close()


def test_fit_softmax_separates_clusters() -> None:
    vectors = clustered(300, 16, 3, seed=1, spread=0.2)
    centres = vectors[:3]
    labels = (vectors @ centres.T).argmax(axis=1)
    weights, bias = fit_softmax(vectors, labels, 3)
    assert ((vectors @ weights + bias).argmax(axis=1) == labels).mean() >= 0.98


def test_sample_per_title_keeps_at_most_the_limit_of_each() -> None:
    vectors = clustered(1000, 8, 4, seed=3)
    titles = np.repeat([1, 2, 3, 4], [700, 200, 80, 20])
    frame_ids = np.arange(1000) + 7
    batches = [
        (titles[i : i + 64], titles[i : i + 64], vectors[i : i + 64], frame_ids[i : i + 64])
        for i in range(0, 1000, 64)
    ]
    ids, kept, kept_frames = sample_per_title(batches, limit=50)
    counts = dict(zip(*np.unique(ids, return_counts=True), strict=True))
    assert all(counts[t] <= 100 for t in (1, 2, 3)) and counts[4] == 20
    for title, row, frame in zip(ids.tolist(), kept, kept_frames.tolist(), strict=True):
        assert titles[frame - 7] == title and (vectors[frame - 7] == row).all()  # real rows
    assert sample_per_title([], limit=5)[0].size == 0


def test_one_title_has_no_model() -> None:
    vectors = clustered(20, 8, 2, seed=2)
    colours = np.zeros((20, COLOUR_DIM), np.float32)
    assert fit_title_model(np.zeros(20, dtype=np.int64), vectors, colours, {0: "Only"}) is None


def test_the_basis_leaves_out_axes_the_catalog_does_not_vary_along() -> None:
    rng = np.random.default_rng(0)
    flat = rng.normal(size=(30, 3)) @ rng.normal(size=(3, 16))  # rank 3 in 16 dims
    axes = principal_axes(flat, 8)
    assert axes.shape == (16, 3) and np.allclose(axes.T @ axes, np.eye(3), atol=1e-5)
    assert np.allclose(
        flat - flat.mean(axis=0), (flat - flat.mean(axis=0)) @ axes @ axes.T, atol=1e-4
    )
    # Fitted on fewer frames than dims, a query off the catalog's span still gets finite odds.
    vectors = (flat / np.linalg.norm(flat, axis=1, keepdims=True)).astype(np.float32)
    colours = rng.random((30, COLOUR_DIM)).astype(np.float32)
    model = fit_title_model(np.arange(30) % 3, vectors, colours, {})
    assert model is not None and model.axes.shape == (16, 3)
    assert np.isfinite(model.probabilities(np.eye(16, dtype=np.float32), colours[:16])).all()


def test_unseen_episode_is_recognised_by_title(catalog, lite0_embedder) -> None:
    store, titles = catalog
    head = TitleHead(store)
    model = head.refit()
    assert model is not None and head.current
    assert sorted(model.names) == sorted(style.name for style in titles)
    images = [render_frame(style, 3, t, SIZE) for style in titles for t in TIMES[::2]]
    truth = [style.name for style in titles for _ in TIMES[::2]]
    colours = np.stack([colour_histogram(image) for image in images])
    probs = model.probabilities(lite0_embedder.embed(images), colours)
    right = [model.names[i] == name for i, name in zip(probs.argmax(axis=1), truth, strict=True)]
    assert np.mean(right) >= 0.7  # chance is 1/3
    # The palette gate: an unseen episode's frames come closer to their own title's frames.
    guess = probs.argmax(axis=1)
    own = model.palette_similarity(colours, guess)
    other = model.palette_similarity(colours, (guess + 1) % len(model.names))
    assert np.mean(own > other) >= 0.8


def test_the_gate_blends_palette_and_probability(catalog, lite0_embedder) -> None:
    assert float(gate_score(1.0, 0.5)) == pytest.approx((0.5 + 0.25) / 1.25)
    assert float(gate_score(0.2, 0.7)) < float(gate_score(0.9, 0.7))  # a surer head, same palette
    assert gate_score(np.array([0.0, 1.0]), np.array([-1.0, 1.0])).tolist() == [-0.8, 1.0]
    store, titles = catalog
    model = TitleHead(store).refit()
    image = render_frame(titles[1], 3, 5.0, SIZE)
    vector, colour = lite0_embedder.embed([image])[0], colour_histogram(image)
    guess = model.guess(vector, colour)
    assert guess.gate == pytest.approx(float(gate_score(guess.confidence, guess.similarity)))
    # The gate, not the palette alone, decides: a threshold between the two tells them apart.
    low, high = sorted((guess.gate, guess.similarity))
    if high - low > 1e-3:
        between = (low + high) / 2
        answered, _ = decide(model, vector, colour, 0.0, between)
        assert (answered is not None) == (guess.gate >= between)
    declined, why = decide(model, vector, colour, 0.0, min(1.0, guess.gate + 0.01))
    assert declined is None and "title gate" in why


def test_a_colour_cast_keeps_the_palette_close_through_its_grey_histogram(catalog) -> None:
    store, titles = catalog
    model = TitleHead(store).refit()
    times = TIMES[::3]
    images = [render_frame(style, 3, t, SIZE) for style in titles for t in times]
    classes = np.array([model.names.index(style.name) for style in titles]).repeat(len(times))
    gains = (0.8, 0.95, 1.25)  # a strong blue cast moves the plain histogram off the title's
    casts = [
        Image.merge(
            "RGB",
            [
                band.point(lambda v, g=g: min(255, round(v * g)))
                for band, g in zip(image.split(), gains, strict=True)
            ],
        )
        for image in images
    ]
    tinted = np.stack([colour_histogram(image) for image in casts])
    plain = (tinted[:, :COLOUR_DIM] - model.mean[-COLOUR_DIM:]) / model.scale[-COLOUR_DIM:]
    plain /= np.linalg.norm(plain, axis=1, keepdims=True)
    plain_only = np.array(
        [
            (model.palettes[model.palette_titles == c] @ row).max()
            for row, c in zip(plain, classes, strict=True)
        ]
    )
    own = model.palette_similarity(tinted, classes)
    assert (own >= plain_only - 1e-5).all()  # the closer of the two palettes
    assert np.mean(own - plain_only) > 0.05  # and the grey one is the closer under a cast
    assert np.mean(own > model.palette_similarity(tinted, (classes + 1) % len(titles))) >= 0.8


def test_identifier_answers_title_when_no_frame_is_close(catalog, lite0_embedder) -> None:
    store, titles = catalog
    head = TitleHead(store)
    head.refit()
    # No frame can pass a similarity of 1.0; the head alone answers, or says why not.
    params = IdentifyParams(min_similarity=1.0, min_title_confidence=0.0, min_title_similarity=0.0)
    identifier = Identifier(lite0_embedder, store, params, head)
    result = identifier.identify(render_frame(titles[0], 3, 7.0, SIZE))
    assert result.match is not None and result.match.kind == "title"
    assert result.match.episode is None and result.match.timestamp is None
    assert result.match.frame_id is None
    strict = Identifier(
        lite0_embedder, store, IdentifyParams(min_similarity=1.0, min_title_similarity=1.0), head
    )
    declined = strict.identify(render_frame(titles[0], 3, 7.0, SIZE))
    assert declined.match is None and "palette similarity" in declined.reason
    without = Identifier(lite0_embedder, store, params)
    assert without.identify(render_frame(titles[0], 3, 7.0, SIZE)).match is None


def test_head_fits_on_the_colours_stored_at_ingest(catalog) -> None:
    store, _ = catalog
    ids = np.concatenate([f for *_, f in store.iter_title_vectors()])
    found = catalog_colours(store, ids.tolist())
    stored = store.colours(ids.tolist())
    assert set(found) == set(stored) == set(ids.tolist())
    assert all(np.array_equal(found[f], stored_colours([stored[f]])[0]) for f in ids.tolist())
    head = TitleHead(store)
    model = head.refit()
    fitted = np.stack([head._colours[f] for f in ids.tolist()])
    assert np.array_equal(fitted, stored_colours([stored[f] for f in ids.tolist()]))
    assert model is not None


def test_a_catalog_from_before_stored_colours_still_answers(lite0_embedder, tmp_path: Path) -> None:
    titles = make_titles(3, seed=5)
    with FrameStore.open(tmp_path, dim=lite0_embedder.dim, model_name=lite0_embedder.name) as store:
        for style in titles:
            for episode in (1, 2):
                _add_episode(store, lite0_embedder, style, episode, colours=False)
    as_older_schema(tmp_path / CATALOG_FILE, 4, "frame_colours")  # no histograms stored
    with FrameStore.open(tmp_path, dim=lite0_embedder.dim, model_name=lite0_embedder.name) as store:
        ids = np.concatenate([f for *_, f in store.iter_title_vectors()]).tolist()
        assert store.colours(ids) == {}
        found = catalog_colours(store, ids)  # each frame's preview instead
        assert np.allclose(found[ids[0]], thumbnail_colours([store.thumbnail(ids[0])])[0])
        head = TitleHead(store)
        assert head.refit() is not None
        params = IdentifyParams(
            min_similarity=1.0, min_title_confidence=0.0, min_title_similarity=0.0
        )
        identifier = Identifier(lite0_embedder, store, params, head)
        answers = [identifier.identify(render_frame(s, 3, 7.0, SIZE)).match for s in titles]
        assert all(a is not None and a.kind == "title" for a in answers)
        assert sum(a.title == s.name for a, s in zip(answers, titles, strict=True)) >= 2


@pytest.mark.slow  # three refits of a real catalog, each waited for
def test_head_refits_in_the_background_after_changes(lite0_embedder, tmp_path: Path) -> None:
    titles = make_titles(3, seed=9)
    with FrameStore.open(tmp_path, dim=lite0_embedder.dim, model_name=lite0_embedder.name) as store:
        head = TitleHead(store)
        assert head.model is None  # empty catalog: nothing to fit
        head.wait()
        for style in titles[:2]:
            _add_episode(store, lite0_embedder, style, 1)
        assert not head.current
        head.refresh()
        head.wait(60)
        assert head.current and len(head.model.names) == 2
        _add_episode(store, lite0_embedder, titles[2], 1)
        assert not head.current and len(head.model.names) == 2  # the old model answers meanwhile
        head.wait(60)
        assert head.current and len(head.model.names) == 3
        store.remove_title(store.find_title(titles[0].name).id)
        head.refresh()
        head.wait(60)
        assert head.current and titles[0].name not in head.model.names
