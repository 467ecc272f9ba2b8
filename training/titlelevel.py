"""The title-level head on an evaluation split: the answer a served model gives to a screenshot
whose frame is not indexed (unseen episodes), at the model's own thresholds."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.query.calibrate import CalibrationError, calibrate_vectors
from index.query.params import IdentifyParams
from index.query.titlehead import fit_title_model
from model.exported import update_metadata
from training.data import Sample

log = logging.getLogger(__name__)


Labelled = tuple[np.ndarray, np.ndarray, np.ndarray]  # vectors, colour histograms, labels


def title_level(
    gallery: Labelled, queries: Labelled, thresholds: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """Top-1 of `index.query.titlehead` fitted on the gallery, and its operating point: queries
    answered right, wrong or unknown at `thresholds` (an embedder's calibrated ones; else the
    defaults measured for Lite0), with the head's own gates, as the server answers."""
    defaults = IdentifyParams()
    given = dict(thresholds or {})
    confidence_gate = given.get("min_title_confidence", defaults.min_title_confidence)
    similarity_gate = given.get("min_title_similarity", defaults.min_title_similarity)
    (vectors, colours, labels), (query_vectors, query_colours, query_labels) = gallery, queries
    model = fit_title_model(labels, vectors, colours, {})
    if model is None:
        return {"top1_accuracy": None, "reason": "fewer than two titles in the gallery"}
    guess, confidence, _, gate = model.answers(query_vectors, query_colours)
    answered = (confidence >= confidence_gate) & (gate >= similarity_gate)
    right = model.title_ids[guess] == query_labels
    return {
        "top1_accuracy": float(right.mean()),
        "min_title_confidence": float(confidence_gate),
        "min_title_similarity": float(similarity_gate),
        "right": float((answered & right).mean()),
        "wrong": float((answered & ~right).mean()),
        "unknown": float((~answered).mean()),
    }


def calibrate_export(
    model_path: Path,
    samples: Sequence[Sample],
    vectors: np.ndarray,
    colours: np.ndarray,
    seed: int = 0,
) -> dict[str, float] | None:
    """Calibrate the exported model's thresholds on held-out `samples` (their `vectors` by
    that model, their colour histograms; `index.query.calibrate`, episodes = sources) and store
    them in its metadata.
    None, and nothing written, when the samples cannot calibrate (fewer than 5 titles, or no
    title with two sources): the server then uses the defaults or a catalog's calibration."""
    titles = np.unique([s.title for s in samples], return_inverse=True)[1]
    keys = [f"{s.title}\0{s.source or s.name}" for s in samples]
    sources = np.unique(keys, return_inverse=True)[1]
    try:
        result = calibrate_vectors(titles, sources, vectors, colours, seed=seed)
    except CalibrationError as error:
        log.warning(
            "export not calibrated on its held-out frames (%s); the server will use the"
            " catalog's calibration (`shazam-anime calibrate`) or the defaults",
            error,
        )
        return None
    measured = {"thresholds": result.thresholds(), "calibration": result.as_dict()}
    update_metadata(model_path, measured)
    return result.thresholds()
