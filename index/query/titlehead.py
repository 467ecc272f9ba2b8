"""Title-level answers when no catalogued frame is close: a per-title model over the catalog.

A screenshot from an episode or scene that is not indexed has no near-identical frame, but its
embedding and its palette (`index.query.colour`) still lie nearer its own title's frames than
others'. The head is a multinomial logistic regression on the standardised embedding (read in the
catalog's own principal axes) and colour histogram, fitted in numpy from the catalog's vectors
and stored histograms (at most `max_per_title` frames per title), so adding or removing a title
never retrains a network: `TitleHead` refits in a background thread when the store's revision
moves and answers with the last fitted model meanwhile. Its "unknown" is a gate on the palette
similarity of the guessed title's nearest frame (plain or with colour casts cancelled, the grey
histogram, whichever is closer), blended with the head's own probability (`gate_score`). Chosen
by `bench/titlehead.py` (docs/titlehead.md): on generated titles, leave-episode-out, the colour
histogram lifted top-1 from 0.80 to 0.93, the principal axes to 0.96, and the palette gate
kept titles outside the catalog unknown far better than the embedding's best-frame similarity.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from index.query.colour import catalog_colours, colour_rows, with_grey
from index.types import COLOUR_DIM

if TYPE_CHECKING:
    from index.store.frame_store import FrameStore

log = logging.getLogger(__name__)

MAX_PER_TITLE = 400  # frames per title the model fits on: bounds the fit time, not its quality
# The embedding is read in the catalog's top principal axes, fitted on at most BASIS_ROWS of the
# sampled frames (one SVD, bounded): right answers +0.02, unknown titles as unknown
# (docs/titlehead.md, "The head in the catalog's principal basis").
BASIS_DIM = 512
BASIS_ROWS = 4096
_STEPS = 300
_L2 = 1e-2  # per row; 1e-3 fitted the catalog harder, unseen episodes less well
# The gate's weight of the head's probability beside the palette similarity: a sure head makes up
# for a palette a little off and the other way round (docs/titlehead.md, "What ships now").
CONFIDENCE_WEIGHT = 0.25


def gate_score(confidence: np.ndarray | float, palette: np.ndarray | float) -> np.ndarray:
    """What `min_title_similarity` gates: the palette similarity blended with the probability,
    on the palette's scale (-1..1)."""
    weighted = np.asarray(palette) + CONFIDENCE_WEIGHT * np.asarray(confidence)
    return weighted / (1 + CONFIDENCE_WEIGHT)


@dataclass(frozen=True, slots=True)
class TitleGuess:
    """The head's best title: `confidence` is its class probability, 0..1; `similarity` the
    palette similarity of the title's nearest fitted frame (standardised colour histograms);
    `gate` the two blended (`gate_score`)."""

    title_id: int
    title: str
    confidence: float
    similarity: float = -1.0
    gate: float = -1.0


@dataclass(frozen=True, slots=True)
class TitleModel:
    """A fitted head: softmax(((x - mean) / scale) @ weights + bias) over `title_ids`, where x
    is an embedding in the catalog's principal `axes` (projected, unit norm) followed by its
    plain colour histogram; `palettes` keeps the fitted frames'
    standardised, unit-norm histograms (title index in `palette_titles`) for the open-set gate,
    `greys` the same of their grey histograms (standardised by `grey_mean` and `grey_scale`).
    Colours passed in are palettes (`index.query.colour`: plain, then grey) or plain histograms
    alone (the grey one then derived, `with_grey`)."""

    title_ids: np.ndarray  # (k,) int64
    names: tuple[str, ...]
    axes: np.ndarray  # (embedding dim, dim) orthonormal columns
    mean: np.ndarray  # (dim + COLOUR_DIM,)
    scale: np.ndarray  # (dim + COLOUR_DIM,)
    weights: np.ndarray  # (dim + COLOUR_DIM, k)
    bias: np.ndarray  # (k,)
    palettes: np.ndarray  # (m, COLOUR_DIM) float32
    palette_titles: np.ndarray  # (m,) index into title_ids
    greys: np.ndarray  # (m, COLOUR_DIM) float32
    grey_mean: np.ndarray  # (COLOUR_DIM,)
    grey_scale: np.ndarray  # (COLOUR_DIM,)
    revision: int  # the store revision it was fitted at
    fit_seconds: float

    def probabilities(self, vectors: np.ndarray, colours: np.ndarray) -> np.ndarray:
        """(n, k) class probabilities of L2-normalised embeddings and their colour histograms."""
        features = np.concatenate([unit_rows(vectors @ self.axes), colours[:, :COLOUR_DIM]], axis=1)
        return softmax(((features - self.mean) / self.scale) @ self.weights + self.bias)

    def palette_similarity(self, colours: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """(n,) best cosine of each standardised histogram to a fitted frame of its class, as
        it is or with its colour cast cancelled (the grey halves), whichever is closer: a
        tinted screenshot keeps its title (docs/titlehead.md, "Colour casts")."""
        palettes = with_grey(colours)
        plain = unit_rows(
            (palettes[:, :COLOUR_DIM] - self.mean[-COLOUR_DIM:]) / self.scale[-COLOUR_DIM:]
        )
        grey = unit_rows((palettes[:, COLOUR_DIM:] - self.grey_mean) / self.grey_scale)
        classes = np.asarray(classes)
        best = np.full(len(plain), -1.0)
        for title in np.unique(classes).tolist():  # only that title's frames: a big catalog
            rows = classes == title  # holds hundreds of thousands of palettes
            own = self.palette_titles == title
            if own.any():
                best[rows] = np.maximum(
                    (plain[rows] @ self.palettes[own].T).max(axis=1),
                    (grey[rows] @ self.greys[own].T).max(axis=1),
                )
        return best

    def answers(
        self, vectors: np.ndarray, colours: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(guessed class, its probability, palette similarity, gate score) of each query: what
        the server gates on, and calibration and the benches measure."""
        probs = self.probabilities(vectors, colours)
        guess = probs.argmax(axis=1)
        confidence = probs.max(axis=1)
        palette = self.palette_similarity(colours, guess)
        return guess, confidence, palette, gate_score(confidence, palette)

    def guess(self, vector: np.ndarray, colour: np.ndarray) -> TitleGuess:
        """The most probable title of one embedding and histogram, with its palette and gate."""
        best, confidence, palette, gate = (x[0] for x in self.answers(vector[None], colour[None]))
        return TitleGuess(
            int(self.title_ids[best]),
            self.names[int(best)],
            float(confidence),
            float(palette),
            float(gate),
        )


def decide(
    model: TitleModel,
    vector: np.ndarray,
    colour: np.ndarray,
    min_confidence: float,
    min_similarity: float,
) -> tuple[TitleGuess | None, str | None]:
    """The head's title for a query's embedding and colour histogram, or None and why not.

    Both gates are needed: a softmax is sure of some title even for a picture unlike all of
    them, so the query's palette must also come near a frame of that title (its `gate_score`
    at least `min_similarity`); that keeps titles outside the catalog unknown (docs/titlehead.md).
    """
    guess = model.guess(vector, colour)
    if guess.confidence < min_confidence:
        return None, f"title confidence {guess.confidence:.3f} is below {min_confidence:.3f}"
    if guess.gate < min_similarity:
        return (
            None,
            f"title gate {guess.gate:.3f} (palette similarity {guess.similarity:.3f}, confidence"
            f" {guess.confidence:.3f}) is below {min_similarity:.3f}",
        )
    return guess, None


def principal_axes(features: np.ndarray, dim: int) -> np.ndarray:
    """(width, <= dim) orthonormal columns: the top principal axes of `features`, leaving out
    any along which they do not vary (standardised, such an axis would blow a query up)."""
    centred = features - features.mean(axis=0)
    _, values, axes = np.linalg.svd(centred, full_matrices=False)
    varies = values[:dim] > 1e-5 * values[:1].max(initial=0)
    return axes[:dim][varies].T.astype(np.float32)


def unit_rows(rows: np.ndarray) -> np.ndarray:
    """Each row at unit length (a zero row stays zero)."""
    return rows / (np.linalg.norm(rows, axis=1, keepdims=True) + 1e-9)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def fit_softmax(
    features: np.ndarray, labels: np.ndarray, classes: int, *, steps: int = _STEPS
) -> tuple[np.ndarray, np.ndarray]:
    """(weights, bias) of an L2-regularised softmax regression, by Adam on the full batch.

    Standardised features make the problem well conditioned, so a fixed step count converges
    (the loss is convex); no solver library is needed for a few thousand rows.
    """
    n, dim = features.shape
    onehot = np.zeros((n, classes), dtype=np.float32)
    onehot[np.arange(n), labels] = 1.0
    params = [np.zeros((dim, classes), dtype=np.float32), np.zeros(classes, dtype=np.float32)]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    rate, beta1, beta2 = 0.01, 0.9, 0.999
    for step in range(1, steps + 1):
        error = (softmax(features @ params[0] + params[1]) - onehot) / n
        grads = [features.T @ error + _L2 * params[0], error.sum(axis=0)]
        for p, g, m, v in zip(params, grads, moments, squares, strict=True):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            p -= rate * (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + 1e-8)
    return params[0], params[1]


def fit_title_model(
    title_ids: np.ndarray,
    vectors: np.ndarray,
    colours: np.ndarray,
    names: dict[int, str],
    *,
    revision: int = 0,
    max_per_title: int = MAX_PER_TITLE,
    seed: int = 0,
) -> TitleModel | None:
    """Fit the head on labelled embeddings and their palettes (or plain histograms alone,
    `index.query.colour`); None with fewer than two titles (nothing to tell)."""
    started = time.perf_counter()
    classes = np.unique(title_ids)
    if len(classes) < 2:
        return None
    rng = np.random.default_rng(seed)
    keep = np.concatenate(
        [rng.permutation(np.flatnonzero(title_ids == title))[:max_per_title] for title in classes]
    )
    palettes = with_grey(colours[keep])
    axes = principal_axes(vectors[rng.permutation(keep)[:BASIS_ROWS]], BASIS_DIM)
    embedded = unit_rows(vectors[keep] @ axes)
    x = np.concatenate([embedded, palettes[:, :COLOUR_DIM]], axis=1).astype(np.float32)
    y = np.searchsorted(classes, title_ids[keep])
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    standard = (x - mean) / scale
    weights, bias = fit_softmax(standard, y, len(classes))
    greys = palettes[:, COLOUR_DIM:]
    grey_mean, grey_scale = greys.mean(axis=0), greys.std(axis=0) + 1e-6
    return TitleModel(
        title_ids=classes,
        names=tuple(names.get(int(t), str(t)) for t in classes),
        axes=axes,
        mean=mean,
        scale=scale,
        weights=weights,
        bias=bias,
        palettes=unit_rows(standard[:, -COLOUR_DIM:]),
        palette_titles=y,
        greys=unit_rows((greys - grey_mean) / grey_scale).astype(np.float32),
        grey_mean=grey_mean,
        grey_scale=grey_scale,
        revision=revision,
        fit_seconds=time.perf_counter() - started,
    )


def sample_per_title(
    batches: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    limit: int,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(title ids, vectors, frame ids): a uniform sample of at most `limit` frames per title
    from (title ids, source ids, vectors, frame ids) batches, holding at most 2 x `limit` per
    title at a time (each frame draws a random key; the smallest keys stay), so a big catalog is
    never all in memory at once."""
    rng = np.random.default_rng(seed)
    kept: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for titles, _sources, vectors, frame_ids in batches:
        keys = rng.random(len(titles))
        for title in np.unique(titles).tolist():
            rows = titles == title
            old = kept.get(title, (keys[:0], vectors[:0], frame_ids[:0]))
            new = (keys, vectors, frame_ids)
            merged = [np.concatenate([a, b[rows]]) for a, b in zip(old, new, strict=True)]
            if len(merged[0]) > 2 * limit:
                best = np.argsort(merged[0])[:limit]
                merged = [column[best] for column in merged]
            kept[title] = (merged[0], merged[1], merged[2])
    if not kept:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros((0, 0), dtype=np.float32), empty
    ids = np.concatenate([np.full(len(k), t, dtype=np.int64) for t, (k, _, _) in kept.items()])
    vectors_kept = np.concatenate([v for _, v, _ in kept.values()])
    return ids, vectors_kept, np.concatenate([f for _, _, f in kept.values()])


class TitleHead:
    """Keeps a `TitleModel` current with a store: refits off the caller's thread when the
    store's revision moves, and answers with the last fitted model meanwhile."""

    def __init__(self, store: FrameStore, *, max_per_title: int = MAX_PER_TITLE) -> None:
        self.store = store
        self.max_per_title = max_per_title
        self._model: TitleModel | None = None
        self._colours: dict[int, np.ndarray] = {}  # frame id -> its colour histogram
        self._fitted_revision: int | None = None
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    @property
    def model(self) -> TitleModel | None:
        """The last fitted model, starting a background refit if the catalog has changed."""
        self.refresh()
        return self._model

    @property
    def current(self) -> bool:
        """Whether the model was fitted on the catalog as it is now."""
        return self._fitted_revision == self.store.revision

    def refit(self) -> TitleModel | None:
        """Fit on the catalog now (blocking); used at start and by the background worker."""
        revision = self.store.revision
        titles, vectors, frame_ids = sample_per_title(
            self.store.iter_title_vectors(), self.max_per_title
        )
        colours = self._catalog_colours(frame_ids)
        names = {info.id: info.name for info in self.store.titles()}
        model = fit_title_model(
            titles, vectors, colours, names, revision=revision, max_per_title=self.max_per_title
        )
        self._model, self._fitted_revision = model, revision
        if model is not None:
            log.info("title head: %d titles in %.2f s", len(model.names), model.fit_seconds)
        return model

    def _catalog_colours(self, frame_ids: np.ndarray) -> np.ndarray:
        """The frames' colour histograms (stored at ingest, or an older frame's preview's);
        each is read once, so a refit after an add reads only the new frames."""
        wanted = set(frame_ids.tolist())
        self._colours = {f: c for f, c in self._colours.items() if f in wanted}
        self._colours.update(
            catalog_colours(self.store, [f for f in wanted if f not in self._colours])
        )
        # A frame removed since the sample was read has no palette; the removal moved the
        # revision, so the next refit drops it.
        return colour_rows(self._colours, frame_ids.tolist())

    def refresh(self) -> None:
        """Start a background refit when the catalog changed since the last fit (or none ran)."""
        if self._fitted_revision == self.store.revision:
            return
        with self._lock:
            if self._worker is not None and self._worker.is_alive():
                return
            self._worker = threading.Thread(target=self._refit_logged, daemon=True)
            self._worker.start()

    def _refit_logged(self) -> None:
        try:
            self.refit()
        except Exception:  # a failed refit keeps the old model; the next query retries
            log.exception("title head refit failed")

    def wait(self, timeout: float | None = None) -> None:
        """Block until a running refit ends (tests and commands that want a current head)."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
