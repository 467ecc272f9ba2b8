"""`score`: the evaluation report's numbers on embeddings worked out on paper."""

from __future__ import annotations

import numpy as np
import pytest

from training.evaluate import score

GALLERY = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
GALLERY_LABELS = np.array([0, 0, 1, 1])


def test_score_reports_accuracy_recall_and_per_title_precision() -> None:
    queries = np.array([[1.0, 0.05], [0.05, 1.0], [0.8, 0.2]])  # the third is a title-1 query
    report = score(GALLERY, GALLERY_LABELS, queries, np.array([0, 1, 1]), ["A", "B"])
    assert report["top1_accuracy"] == pytest.approx(2 / 3)
    assert report["knn5_vote_accuracy"] == pytest.approx(2 / 3)
    assert report["recall_at"] == {"1": pytest.approx(2 / 3), "5": 1.0, "10": 1.0}
    assert report["confusion_matrix"] == [[1, 0], [1, 1]]
    assert report["per_title"]["A"] == {"precision": 0.5, "recall": 1.0, "queries": 1}
    assert report["per_title"]["B"] == {"precision": 1.0, "recall": 0.5, "queries": 2}
