"""The title-level report: top-1 and the right / wrong / unknown split at given thresholds."""

from __future__ import annotations

import numpy as np

from tests.index.storekit import clustered
from training.titlelevel import title_level


def _titles(seed: int, spread: float) -> tuple[np.ndarray, np.ndarray]:
    vectors = clustered(240, 16, 3, seed=seed, spread=spread)
    labels = (vectors @ clustered(3, 16, 3, seed=seed, spread=0.0).T).argmax(axis=1)
    return vectors, labels


def test_separable_titles_are_answered_and_the_gates_make_unknowns() -> None:
    vectors, labels = _titles(seed=4, spread=0.2)
    gallery, queries = slice(0, 180), slice(180, None)
    args = (vectors[gallery], labels[gallery], vectors[queries], labels[queries])
    open_gates = title_level(*args, {"min_title_confidence": 0.0, "min_title_similarity": -1.0})
    assert open_gates["top1_accuracy"] >= 0.95 and open_gates["unknown"] == 0.0
    assert open_gates["right"] == open_gates["top1_accuracy"]
    closed = title_level(*args, {"min_title_confidence": 1.01, "min_title_similarity": -1.0})
    assert closed["unknown"] == 1.0 and closed["right"] == closed["wrong"] == 0.0
    default = title_level(*args)
    assert abs(default["right"] + default["wrong"] + default["unknown"] - 1.0) < 1e-9
    one_title = title_level(
        vectors[:10], np.zeros(10, dtype=np.int64), vectors[10:20], labels[10:20]
    )
    assert one_title["top1_accuracy"] is None
