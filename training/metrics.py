"""Retrieval metrics as pure numpy functions: kNN accuracy, recall@k, confusion, precision.

Also the recall of an approximate nearest-neighbour search against exact search, shared by the
vector-index tests and `bench/index.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _check_pair(queries: np.ndarray, gallery: np.ndarray) -> None:
    if queries.ndim != 2 or gallery.ndim != 2 or queries.shape[1] != gallery.shape[1]:
        raise ValueError(
            "queries and gallery must be 2-D with equal width, "
            f"got {queries.shape} and {gallery.shape}"
        )
    if len(gallery) == 0:
        raise ValueError("the gallery is empty")


def similarity_matrix(queries: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """Cosine similarity of every query to every gallery row (rows need not be normalised)."""
    _check_pair(queries, gallery)
    q = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    g = gallery / np.maximum(np.linalg.norm(gallery, axis=1, keepdims=True), 1e-12)
    return q.astype(np.float64) @ g.astype(np.float64).T


def knn_predict(
    queries: np.ndarray, gallery: np.ndarray, gallery_labels: Sequence[int], k: int = 1
) -> np.ndarray:
    """Majority label of the k nearest gallery rows; a tie goes to the label seen nearest."""
    labels = np.asarray(gallery_labels)
    if len(labels) != len(gallery):
        raise ValueError(f"{len(labels)} gallery labels for {len(gallery)} gallery rows")
    sims = similarity_matrix(queries, gallery)
    k = max(1, min(k, sims.shape[1]))
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    predictions = np.empty(len(queries), dtype=labels.dtype)
    for row, neighbours in enumerate(order):
        votes: dict[int, int] = {}
        for label in labels[neighbours]:  # nearest first, so dict order breaks ties by distance
            votes[label] = votes.get(label, 0) + 1
        predictions[row] = max(votes, key=votes.__getitem__)
    return predictions


def knn_accuracy(
    queries: np.ndarray,
    query_labels: Sequence[int],
    gallery: np.ndarray,
    gallery_labels: Sequence[int],
    k: int = 1,
) -> float:
    """Fraction of queries whose kNN vote over the gallery gives their own label."""
    truth = np.asarray(query_labels)
    if len(truth) == 0:
        raise ValueError("no queries")
    return float(np.mean(knn_predict(queries, gallery, gallery_labels, k) == truth))


def leave_source_out_predict(
    embeddings: np.ndarray, labels: Sequence[int], sources: Sequence[str]
) -> np.ndarray:
    """Top-1 label of each row's nearest neighbour from a *different* source (-1 when none exists).

    Excluding the row's own episode/video keeps near-identical neighbouring frames from the same
    shot from making the score look better than a real query would see.
    """
    label_arr, source_arr = np.asarray(labels), np.asarray(sources)
    if not len(label_arr) == len(source_arr) == len(embeddings):
        raise ValueError("embeddings, labels and sources must have the same length")
    sims = similarity_matrix(embeddings, embeddings)
    sims[source_arr[:, None] == source_arr[None, :]] = -np.inf
    best = np.argmax(sims, axis=1)
    found = np.isfinite(sims[np.arange(len(sims)), best])
    return np.where(found, label_arr[best], -1)


def leave_source_out_accuracy(
    embeddings: np.ndarray, labels: Sequence[int], sources: Sequence[str]
) -> float:
    """Top-1 kNN accuracy where each frame is matched only against other sources."""
    predictions = leave_source_out_predict(embeddings, labels, sources)
    return float(np.mean(predictions == np.asarray(labels)))


def recall_at_k(
    queries: np.ndarray,
    query_labels: Sequence[int],
    gallery: np.ndarray,
    gallery_labels: Sequence[int],
    ks: Sequence[int] = (1, 5, 10),
) -> dict[int, float]:
    """For each k: fraction of queries with at least one same-label row among their k nearest."""
    truth, labels = np.asarray(query_labels), np.asarray(gallery_labels)
    sims = similarity_matrix(queries, gallery)
    order = np.argsort(-sims, axis=1, kind="stable")
    hits = labels[order] == truth[:, None]
    first_hit = np.where(hits.any(axis=1), hits.argmax(axis=1), np.iinfo(np.int64).max)
    return {int(k): float(np.mean(first_hit < k)) for k in ks}


def exact_top_k(base: np.ndarray, queries: np.ndarray, k: int, chunk: int = 256) -> np.ndarray:
    """Row indices of each query's k nearest `base` rows by inner product (cosine for unit
    vectors), nearest first; queries go in chunks to bound memory on a large base."""
    out = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), chunk):
        scores = queries[start : start + chunk] @ base.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(-scores, top, axis=1).argsort(axis=1)
        out[start : start + chunk] = np.take_along_axis(top, order, axis=1)
    return out


def neighbour_recall(found: Sequence[Sequence[int]], truth: np.ndarray) -> float:
    """recall@k of an approximate search: the share of the exact k nearest (`truth`, one row per
    query, e.g. from `exact_top_k`) that it also returned, in any order."""
    hits = sum(
        len(set(row) & set(true_row.tolist())) for row, true_row in zip(found, truth, strict=True)
    )
    return hits / truth.size


def confusion_matrix(truth: Sequence[int], predicted: Sequence[int], n_classes: int) -> np.ndarray:
    """Counts (n_classes, n_classes): row = true class, column = predicted; out-of-range dropped."""
    truth_arr, pred_arr = np.asarray(truth), np.asarray(predicted)
    if truth_arr.shape != pred_arr.shape:
        raise ValueError("truth and predictions must have the same length")
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    valid = (truth_arr >= 0) & (truth_arr < n_classes) & (pred_arr >= 0) & (pred_arr < n_classes)
    np.add.at(matrix, (truth_arr[valid], pred_arr[valid]), 1)
    return matrix


def per_class_precision_recall(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall per class from a confusion matrix; 0 where a class was never
    predicted / never present (rather than NaN, so JSON reports stay valid)."""
    true_positive = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0).astype(np.float64)
    actual = matrix.sum(axis=1).astype(np.float64)
    precision = np.divide(
        true_positive, predicted, out=np.zeros_like(predicted), where=predicted > 0
    )
    recall = np.divide(true_positive, actual, out=np.zeros_like(actual), where=actual > 0)
    return precision, recall
