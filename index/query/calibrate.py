"""Decision thresholds calibrated on a catalog's own held-out frames, for the model that built it.

Thresholds calibrated for one model do not fit another: a fine-tuned model's similarities live
on another scale (issue 11: median best similarity 0.96 against 0.65 pretrained). So each
catalog can carry its own, measured on itself in `folds` rounds. In each round a share of the
sources of titles with several sources is held out (unseen episodes of known titles), and a
share of the titles is withheld whole (titles outside the catalog); the title head is fitted on
the rest, and the held-out frames are searched against the rest (hits of held-out sources are
dropped). Then:
- `min_similarity`: the `unknown` quantile of the withheld titles' best frame similarity, so
  that share of pictures from titles outside the catalog gets no frame match;
- `min_title_confidence`, `min_title_similarity` (the head's gate: its palette similarity blended
  with its probability, `index.query.titlehead.gate_score`): the pair that
  answers the most unseen-episode frames with the right title, with at most `wrong` of them
  wrong and at most 1 - `unknown` of the withheld titles' frames answered at all.
The held-out frames are the stored (clean) ones: measured against perturbed copies of the same
frames, as real screenshots are, the chosen operating point was no better (docs/titlehead.md).
The margin is not calibrated (it rejects near-ties; see `index.query.identify`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from index.query.colour import catalog_colours, colour_rows
from index.query.titlehead import fit_title_model
from index.store.frame_store import FrameStore

THRESHOLD_KEYS = ("min_similarity", "min_margin", "min_title_confidence", "min_title_similarity")
TITLE_KEYS = ("min_title_confidence", "min_title_similarity")
# What the title thresholds gate: calibrations made for another gate (before the colour head,
# embedding similarity; before the blend, the palette similarity alone: "palette"; before the
# grey-world palette, "palette+confidence"; before the grey histogram from the pixels,
# "palette|grey+confidence") name another or none, and their title thresholds no longer apply.
TITLE_GATE = "palette|pixel-grey+confidence"


@dataclass(frozen=True, slots=True)
class Calibration:
    """Thresholds and what they gave on the held-out frames they were chosen on."""

    min_similarity: float
    min_title_confidence: float
    min_title_similarity: float
    known_queries: int  # unseen-episode frames of catalogued titles
    withheld_queries: int  # frames of titles withheld from the catalog
    right: float  # share of known queries answered with the right title (title head)
    wrong: float
    withheld_unknown: float  # share of withheld queries left unknown
    title_gate: str = TITLE_GATE

    def thresholds(self) -> dict[str, float]:
        return {key: value for key, value in asdict(self).items() if key in THRESHOLD_KEYS}

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def stored_thresholds(stored: Mapping[str, Any] | None) -> dict[str, float]:
    """The thresholds of a catalog's stored calibration (`{"thresholds", "measured"}`), less
    the title ones when they were measured for another title gate."""
    return usable_thresholds((stored or {}).get("thresholds"), (stored or {}).get("measured"))


def usable_thresholds(
    thresholds: Mapping[str, float] | None, measured: Mapping[str, Any] | None
) -> dict[str, float]:
    """`thresholds` (a catalog's or an exported model's) less the title ones when `measured`,
    what they were chosen on, names another title gate than today's (or none: made before it)."""
    usable = dict(thresholds or {})
    if (measured or {}).get("title_gate") != TITLE_GATE:
        usable = {k: v for k, v in usable.items() if k not in TITLE_KEYS}
    return usable


class CalibrationError(ValueError):
    """The catalog is too small to hold anything out."""


# (query rows, held-out sources) -> best similarity of any frame, held-out sources left out.
Similarities = Callable[[np.ndarray, set[int]], np.ndarray]


def calibrate(store: FrameStore, *, search_k: int = 200, **options: Any) -> Calibration:
    """Measure held-out frames of the catalog in `store` and choose thresholds (module doc);
    the similarities come from the store's index (`search_k` hits, held-out sources dropped)."""
    titles, sources, vectors, colours = labelled_vectors(store)

    def similarities(picks: np.ndarray, held: set[int]) -> np.ndarray:
        rows = store.search(vectors[picks], search_k)
        best = [
            max((h.similarity for h in r if h.source_id not in held), default=-1.0) for r in rows
        ]
        return np.array(best)

    return calibrate_vectors(titles, sources, vectors, colours, similarities, **options)


def calibrate_vectors(
    titles: np.ndarray,
    sources: np.ndarray,
    vectors: np.ndarray,
    colours: np.ndarray,
    similarities: Similarities | None = None,
    *,
    folds: int = 3,
    per_source: int = 20,
    wrong: float = 0.05,
    unknown: float = 0.95,
    seed: int = 0,
) -> Calibration:
    """Calibrate on labelled embeddings and colour histograms (title and source per row); exact
    similarities by default, as training does for an export before any catalog exists."""
    similarities = similarities or _exact_similarities(sources, vectors)
    title_ids = np.unique(titles)
    if len(title_ids) < folds + 2:
        raise CalibrationError(f"calibration needs at least {folds + 2} titles")
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(title_ids).tolist()
    title_fold = {title: index % folds for index, title in enumerate(shuffled)}
    source_fold = _source_folds(titles, sources, folds, rng)
    known: list[np.ndarray] = []  # rows: right?, confidence, gate score
    withheld: list[np.ndarray] = []
    best_withheld: list[np.ndarray] = []
    for fold in range(folds):
        out_title = np.array([title_fold[t] == fold for t in titles.tolist()])
        out_source = np.array([source_fold.get(s) == fold for s in sources.tolist()])
        train = ~out_title & ~out_source
        model = fit_title_model(titles[train], vectors[train], colours[train], {}, seed=seed)
        if model is None:
            continue
        held = set(sources[~train].tolist())
        for rows, into in ((out_source & ~out_title, known), (out_title, withheld)):
            picks = _sample(rows, sources, per_source, rng)
            if len(picks) == 0:
                continue
            guess, confidence, _, gate = model.answers(vectors[picks], colours[picks])
            right = model.title_ids[guess] == titles[picks]
            into.append(np.stack([right, confidence, gate], axis=1))
            if into is withheld:
                best_withheld.append(similarities(picks, held))
    if not known or not withheld:
        raise CalibrationError("no title has two sources to hold one out; add more episodes")
    known_rows, withheld_rows = np.concatenate(known), np.concatenate(withheld)
    confidence, similarity, right, wrong_share, kept_unknown = operating_point(
        known_rows, withheld_rows, wrong, unknown
    )
    return Calibration(
        min_similarity=round(float(np.quantile(np.concatenate(best_withheld), unknown)), 4),
        min_title_confidence=round(confidence, 4),
        min_title_similarity=round(similarity, 4),
        known_queries=len(known_rows),
        withheld_queries=len(withheld_rows),
        right=round(right, 4),
        wrong=round(wrong_share, 4),
        withheld_unknown=round(kept_unknown, 4),
    )


def _exact_similarities(sources: np.ndarray, vectors: np.ndarray) -> Similarities:
    def similarities(picks: np.ndarray, held: set[int]) -> np.ndarray:
        kept = ~np.isin(sources, list(held))
        return (vectors[picks] @ vectors[kept].T).max(axis=1)

    return similarities


def labelled_vectors(store: FrameStore) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(title ids, source ids, vectors, colour histograms) of every frame: the histograms
    stored at ingest, or an older frame's preview's (`index.query.colour.catalog_colours`)."""
    parts = list(store.iter_title_vectors())
    if not parts:
        raise CalibrationError("the catalog is empty")
    titles, sources, vectors, frame_ids = (np.concatenate(c) for c in zip(*parts, strict=True))
    ids = frame_ids.tolist()
    return titles, sources, vectors, colour_rows(catalog_colours(store, ids), ids)


def _source_folds(
    titles: np.ndarray, sources: np.ndarray, folds: int, rng: np.random.Generator
) -> dict[int, int]:
    """Each source of a title with several sources gets a fold; a title keeps at least one
    source in every fold's training set (its first source, in a random order, is never out)."""
    fold_of: dict[int, int] = {}
    for title in np.unique(titles):
        own = rng.permutation(np.unique(sources[titles == title])).tolist()
        for index, source in enumerate(own[1:]):
            fold_of[source] = index % folds
    return fold_of


def _sample(
    rows: np.ndarray, sources: np.ndarray, per_source: int, rng: np.random.Generator
) -> np.ndarray:
    """At most `per_source` of the chosen rows from each source."""
    chosen = np.flatnonzero(rows)
    picks = [
        rng.permutation(chosen[sources[chosen] == source])[:per_source]
        for source in np.unique(sources[chosen])
    ]
    return np.concatenate(picks) if picks else chosen


def operating_point(
    known: np.ndarray, withheld: np.ndarray, wrong: float, unknown: float, slack: float = 0.01
) -> tuple[float, float, float, float, float]:
    """(confidence, similarity, right, wrong, withheld unknown) of a pair on a grid: among the
    pairs within `slack` of the most right answers (under the limits), the one that leaves the
    most withheld queries unknown, so the point keeps a margin from the unknown limit instead of
    sitting on it; (1, 1, ...) when no pair meets the limits (the head then never answers)."""
    points = []
    for confidence in np.linspace(0.0, 1.0, 101):
        for similarity in np.linspace(-1.0, 1.0, 201):
            answered = (known[:, 1] >= confidence) & (known[:, 2] >= similarity)
            right = float((answered & (known[:, 0] == 1)).mean())
            wrong_share = float((answered & (known[:, 0] == 0)).mean())
            accepted = (withheld[:, 1] >= confidence) & (withheld[:, 2] >= similarity)
            kept_unknown = 1.0 - float(accepted.mean())
            if wrong_share <= wrong and kept_unknown >= unknown:
                points.append(
                    (float(confidence), float(similarity), right, wrong_share, kept_unknown)
                )
    if not points:
        return (1.0, 1.0, 0.0, 0.0, 1.0)
    most = max(point[2] for point in points)
    near = [point for point in points if point[2] >= most - slack]
    return max(near, key=lambda point: (point[4], -point[3], point[2]))
