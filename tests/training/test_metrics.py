"""Retrieval metrics on hand-made embeddings whose answers can be worked out on paper."""

from __future__ import annotations

import numpy as np
import pytest

from training import metrics

# Gallery: two points per class on the unit circle; class 0 near +x, class 1 near +y.
GALLERY = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
GALLERY_LABELS = np.array([0, 0, 1, 1])


def test_knn_accuracy_and_predictions() -> None:
    queries = np.array([[1.0, 0.05], [0.05, 1.0], [0.8, 0.2]])
    assert metrics.knn_predict(queries, GALLERY, GALLERY_LABELS).tolist() == [0, 1, 0]
    assert metrics.knn_accuracy(queries, [0, 1, 1], GALLERY, GALLERY_LABELS) == pytest.approx(2 / 3)


def test_knn_vote_breaks_ties_by_nearest() -> None:
    gallery = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7], [-1.0, 0.0]])
    labels = np.array([5, 7, 7, 5])
    # Nearest of the query is label 5 (x-axis); 2-NN is a 1:1 tie -> nearest label wins.
    assert metrics.knn_predict(np.array([[1.0, 0.2]]), gallery, labels, k=2).tolist() == [5]
    # 3-NN: [x-axis (5), diagonal (7), y-axis (7)] -> 7 by majority.
    assert metrics.knn_predict(np.array([[1.0, 0.2]]), gallery, labels, k=3).tolist() == [7]


def test_recall_at_k() -> None:
    queries = np.array([[1.0, 0.0], [1.0, 0.0]])
    recall = metrics.recall_at_k(queries, [0, 1], GALLERY, GALLERY_LABELS, ks=(1, 2, 3))
    # Query 0 hits at rank 1; query 1 (label 1) first finds a label-1 row at rank 3.
    assert recall == {1: 0.5, 2: 0.5, 3: 1.0}


def test_exact_top_k_is_nearest_first_across_query_chunks() -> None:
    angles = np.radians([0, 10, 30, 90, 180])
    base = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    queries = base[[0, 3, 4]]
    top = metrics.exact_top_k(base, queries, k=2, chunk=2)  # 3 queries: a full and a short chunk
    assert top.tolist() == [[0, 1], [3, 2], [4, 3]]


def test_neighbour_recall_counts_the_exact_neighbours_found_in_any_order() -> None:
    truth = np.array([[0, 1], [3, 2]])
    assert metrics.neighbour_recall([[1, 0], [3, 2]], truth) == 1.0
    assert metrics.neighbour_recall([[1, 4], [2, 0]], truth) == pytest.approx(2 / 4)


def test_leave_source_out_ignores_own_source() -> None:
    embeddings = np.array([[1.0, 0.0], [0.99, 0.01], [0.0, 1.0], [0.9, 0.3]])
    labels = [0, 0, 1, 1]
    # Rows 0 and 1 are one shot; without leave-source-out row 0 would match row 1 (label 0).
    sources = ["a", "a", "b", "c"]
    predicted = metrics.leave_source_out_predict(embeddings, labels, sources)
    assert predicted.tolist() == [1, 1, 1, 0]
    assert metrics.leave_source_out_accuracy(embeddings, labels, sources) == pytest.approx(0.25)
    assert metrics.leave_source_out_predict(embeddings[:1], [0], ["a"]).tolist() == [-1]


def test_confusion_matrix_and_precision_recall() -> None:
    matrix = metrics.confusion_matrix([0, 0, 1, 1, 2], [0, 1, 1, 1, 1], n_classes=3)
    assert matrix.tolist() == [[1, 1, 0], [0, 2, 0], [0, 1, 0]]
    precision, recall = metrics.per_class_precision_recall(matrix)
    assert precision.tolist() == pytest.approx([1.0, 0.5, 0.0])  # class 2 never predicted: 0
    assert recall.tolist() == pytest.approx([0.5, 1.0, 0.0])


def test_bad_shapes_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="equal width"):
        metrics.knn_predict(np.ones((2, 3)), GALLERY, GALLERY_LABELS)
    with pytest.raises(ValueError, match="gallery labels"):
        metrics.knn_predict(np.ones((1, 2)), GALLERY, [0, 1])
    with pytest.raises(ValueError, match="empty"):
        metrics.knn_predict(np.ones((1, 2)), np.zeros((0, 2)), [])
