"""Calibration on a real catalog of generated titles: held-out episodes and withheld titles."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.query.calibrate import (
    TITLE_GATE,
    CalibrationError,
    calibrate,
    calibrate_vectors,
    labelled_vectors,
)
from index.store.frame_store import FrameStore
from synthetic.render import render_frame
from synthetic.titles import make_titles
from tests.index.storekit import frames_of, source

SIZE = (320, 180)
TIMES = [1.0 + 3.0 * i for i in range(8)]


@pytest.fixture(scope="module")
def store(lite0_embedder, tmp_path_factory: pytest.TempPathFactory):
    """Six generated titles, two episodes each."""
    store = FrameStore.open(
        tmp_path_factory.mktemp("calibrate") / "store",
        dim=lite0_embedder.dim,
        model_name=lite0_embedder.name,
    )
    for style in make_titles(6, seed=13):
        for episode in (1, 2):
            images = [render_frame(style, episode, t, SIZE) for t in TIMES]
            key = f"{style.name}-{episode}"
            records = frames_of(images, key)
            store.add(source(style.name, key, str(episode)), records, lite0_embedder.embed(images))
    yield store
    store.close()


def test_calibration_meets_its_limits_on_what_it_measured(store: FrameStore) -> None:
    result = calibrate(store, folds=2, per_source=8)
    assert result.known_queries > 0 and result.withheld_queries > 0
    assert result.as_dict()["title_gate"] == TITLE_GATE == "palette|pixel-grey+confidence"
    assert result.wrong <= 0.05 and result.withheld_unknown >= 0.95
    assert 0.0 <= result.min_title_confidence <= 1.0
    assert -1.0 <= result.min_title_similarity <= 1.0
    # Frames of other titles rarely look alike: the frame threshold sits well below exact frames.
    assert 0.3 < result.min_similarity < 0.99
    assert set(result.thresholds()) == {
        "min_similarity",
        "min_title_confidence",
        "min_title_similarity",
    }


def test_exact_similarities_agree_with_the_index(store: FrameStore) -> None:
    # 96 frames, 200 hits: the index returns every frame, so both ways measure the same.
    exact = calibrate_vectors(*labelled_vectors(store), folds=2, per_source=8).as_dict()
    indexed = calibrate(store, folds=2, per_source=8).as_dict()
    assert exact == pytest.approx(indexed, abs=2e-3)  # float32 index vs numpy products


def test_calibration_round_trips_through_the_catalog(store: FrameStore) -> None:
    result = calibrate(store, folds=2, per_source=4)
    store.set_calibration({"thresholds": result.thresholds()})
    assert store.calibration()["thresholds"] == result.thresholds()
    store.set_calibration({"thresholds": {}})  # leave the module's store as found


def test_too_small_a_catalog_is_refused(lite0_embedder, tmp_path: Path) -> None:
    with FrameStore.open(tmp_path, dim=lite0_embedder.dim, model_name=lite0_embedder.name) as s:
        with pytest.raises(CalibrationError, match="empty"):
            calibrate(s)
