"""The title-level head on an evaluation split: the answer a served model gives to a screenshot
whose frame is not indexed (unseen episodes), at the model's own thresholds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from index.query.identify import IdentifyParams
from index.query.titlehead import fit_title_model


def title_level(
    gallery: np.ndarray,
    gallery_labels: np.ndarray,
    queries: np.ndarray,
    query_labels: np.ndarray,
    thresholds: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Top-1 of `index.query.titlehead` fitted on the gallery, and its operating point: queries
    answered right, wrong or unknown at `thresholds` (an embedder's calibrated ones; else the
    defaults measured for Lite0). The similarity gate uses the guessed title's best gallery frame,
    as the server does with its hits."""
    defaults = IdentifyParams()
    given = dict(thresholds or {})
    confidence_gate = given.get("min_title_confidence", defaults.min_title_confidence)
    similarity_gate = given.get("min_title_similarity", defaults.min_title_similarity)
    model = fit_title_model(gallery_labels, gallery, {})
    if model is None:
        return {"top1_accuracy": None, "reason": "fewer than two titles in the gallery"}
    probs = model.probabilities(queries)
    guess = model.title_ids[probs.argmax(axis=1)]
    confidence = probs.max(axis=1)
    sims = queries @ gallery.T
    similarity = np.array(
        [sims[i, gallery_labels == title].max() for i, title in enumerate(guess.tolist())]
    )
    answered = (confidence >= confidence_gate) & (similarity >= similarity_gate)
    right = guess == query_labels
    return {
        "top1_accuracy": float(right.mean()),
        "min_title_confidence": float(confidence_gate),
        "min_title_similarity": float(similarity_gate),
        "right": float((answered & right).mean()),
        "wrong": float((answered & ~right).mean()),
        "unknown": float((~answered).mean()),
    }
