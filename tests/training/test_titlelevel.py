"""The title-level report: top-1 and the right / wrong / unknown split at given thresholds."""

from __future__ import annotations

import numpy as np

from index.query.calibrate import TITLE_KEYS, usable_thresholds
from index.query.colour import COLOUR_DIM
from model.exported import load_exported, read_metadata, save_exported
from tests.index.storekit import clustered
from training.data import Sample
from training.titlelevel import calibrate_export, title_level


def _titles(seed: int, spread: float) -> tuple[np.ndarray, np.ndarray]:
    vectors = clustered(240, 16, 3, seed=seed, spread=spread)
    labels = (vectors @ clustered(3, 16, 3, seed=seed, spread=0.0).T).argmax(axis=1)
    return vectors, labels


def _colours(vectors: np.ndarray) -> np.ndarray:
    """A second view of each frame, as its colour histogram is (`COLOUR_DIM` wide)."""
    return np.abs(np.tile(vectors, -(-COLOUR_DIM // vectors.shape[1]))[:, :COLOUR_DIM])


def test_separable_titles_are_answered_and_the_gates_make_unknowns() -> None:
    vectors, labels = _titles(seed=4, spread=0.2)
    colours = _colours(vectors)
    gallery, queries = slice(0, 180), slice(180, None)
    args = tuple((vectors[s], colours[s], labels[s]) for s in (gallery, queries))
    open_gates = title_level(*args, {"min_title_confidence": 0.0, "min_title_similarity": -1.0})
    assert open_gates["top1_accuracy"] >= 0.95 and open_gates["unknown"] == 0.0
    assert open_gates["right"] == open_gates["top1_accuracy"]
    closed = title_level(*args, {"min_title_confidence": 1.01, "min_title_similarity": -1.0})
    assert closed["unknown"] == 1.0 and closed["right"] == closed["wrong"] == 0.0
    default = title_level(*args)
    assert abs(default["right"] + default["wrong"] + default["unknown"] - 1.0) < 1e-9
    one_title = title_level(
        (vectors[:10], colours[:10], np.zeros(10, dtype=np.int64)),
        (vectors[10:20], colours[10:20], labels[10:20]),
    )
    assert one_title["top1_accuracy"] is None


def test_export_carries_its_calibrated_thresholds(tmp_path) -> None:
    model = _tiny_model()
    meta = {"name": "tiny", "backbone": "x", "fit": "pad"}
    path = save_exported(model, tmp_path / "tiny.keras", meta)
    vectors = clustered(240, 16, 6, seed=8, spread=0.3)
    titles = (vectors @ clustered(6, 16, 6, seed=8, spread=0.0).T).argmax(axis=1)
    samples = [Sample(f"title {t}", f"ep {i % 2}") for i, t in enumerate(titles.tolist())]
    three = np.flatnonzero(titles < 3)  # fewer than 5 titles: nothing to hold out, nothing written
    colours = _colours(vectors)
    subset = [samples[i] for i in three]
    assert calibrate_export(path, subset, vectors[three], colours[three]) is None
    assert load_exported(path).thresholds is None
    thresholds = calibrate_export(path, samples, vectors, colours)
    assert thresholds is not None and set(thresholds) >= {"min_title_confidence", "min_similarity"}
    loaded = load_exported(path)
    assert loaded.thresholds == thresholds
    assert read_metadata(path)["calibration"]["known_queries"] > 0
    # What the server uses of them: all of a new export's; of one calibrated before the colour
    # head (no title gate recorded), only the frame thresholds.
    assert usable_thresholds(loaded.thresholds, loaded.calibration) == thresholds
    before_colour = {k: v for k, v in loaded.calibration.items() if k != "title_gate"}
    older = usable_thresholds(loaded.thresholds, before_colour)
    assert older == {k: v for k, v in thresholds.items() if k not in TITLE_KEYS}
    assert "min_similarity" in older


def _tiny_model():
    import keras

    inputs = keras.Input((32, 32, 3))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Rescaling(1 / 255)(inputs))
    return keras.Model(inputs, keras.layers.UnitNormalization()(keras.layers.Dense(16)(x)))
