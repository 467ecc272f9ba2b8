"""Title-level recognition of unseen episodes: which per-title head, at which operating point.

Generated title sets (`bench/titlesets.py`: `--titles` each, one per `--seed`, 1 s steps); the
catalog holds clean frames (and their colour histograms as ingestion stores them: from the
full frame, one byte a bin, `index.ingest.mapper.make_record`), queries are frames perturbed like
real screenshots (one random perturbation each, primary query view). Splits: `--splits` disjoint
sets of unknown titles, each beside its own `--known` catalogued titles, so that every title is
unknown once and no single title decides the unknown rate (`--splits 1`: the first `--known`
catalogued, the rest unknown; the bench before 14:40). Folds: each split x each held-out episode;
the heads are fitted on the other episodes of the split's known titles and queried on the held-out
episode of its known and unknown titles. Heads (`--heads all`): nearest centroid, the frame vote
of `index.query.vote` (k=50, T=0.03), a softmax regression on the embedding alone and scikit-learn's
logistic regression when installed (their gate: best frame similarity of the guessed title), and
`index.query.titlehead` (the default alone: embedding + colour histogram; its gate: the palette
similarity of the guessed title's nearest frame blended with the head's probability,
`gate_score`). Each fold is measured at the operating point (head probability >= c and gate >= s;
<= 4% wrong, >= 96% of unknown titles unknown) chosen on the folds that share neither its episode
nor its unknown titles; the rates are pooled over every fold, with Wilson 95% intervals [..] and
title-clustered bootstrap ones {..} (the queries of one title move together). Results:
docs/titlehead.md.

    .venv/bin/python -m bench.titlehead --model efficientnet-lite0 --cache /tmp/lite0.npz
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from scipy.stats import binomtest  # noqa: E402

from bench.titlesets import bench_parser, title_sets, title_splits  # noqa: E402
from index.query.calibrate import operating_point  # noqa: E402
from index.query.params import MIN_TITLE_CONFIDENCE, MIN_TITLE_SIMILARITY  # noqa: E402
from index.query.titlehead import fit_softmax, fit_title_model, softmax  # noqa: E402

SERVED = "titlehead (embedding + colour)"


@dataclass(frozen=True)
class Fold:
    """One held-out episode of one split: rows of (right?, probability, gate) for the known
    titles' queries and the unknown titles' queries, and each query's title."""

    split: int
    episode: int
    known: np.ndarray
    unknown: np.ndarray
    known_titles: np.ndarray
    unknown_titles: np.ndarray


def head_probabilities(name: str, train, labels: np.ndarray, queries):
    """(classes, (q, k) probabilities, (q,) gate similarity of the guessed title) of one head;
    `train` and `queries` are (vectors, colour histograms)."""
    if name == SERVED:
        model = fit_title_model(labels, *train, {})
        return model.title_ids, model.probabilities(*queries), model.answers(*queries)[3]
    classes, probs = _embedding_head(name, train[0], labels, queries[0])
    sims = queries[0] @ train[0].T
    guess = classes[probs.argmax(axis=1)]
    own = labels[None, :] == guess[:, None]
    return classes, probs, np.where(own, sims, -1.0).max(axis=1)


def _embedding_head(name: str, train: np.ndarray, labels: np.ndarray, queries: np.ndarray):
    """(classes, (q, k) probabilities) of a head on the embedding alone."""
    classes = np.unique(labels)
    if name == "centroid":
        centres = np.stack([train[labels == c].mean(axis=0) for c in classes])
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        return classes, softmax(queries @ centres.T / 0.02)
    if name == "frame vote":
        sims = queries @ train.T
        top = np.argsort(-sims, axis=1)[:, :50]
        near = np.take_along_axis(sims, top, axis=1)
        weights = np.exp((near - near[:, :1]) / 0.03)
        votes = np.stack([(weights * (labels[top] == c)).sum(axis=1) for c in classes], axis=1)
        return classes, votes / votes.sum(axis=1, keepdims=True)
    if name == "softmax (embedding)":  # the head before colours were added
        mean, scale = train.mean(axis=0), train.std(axis=0) + 1e-6
        weights, bias = fit_softmax(
            (train - mean) / scale, np.searchsorted(classes, labels), len(classes)
        )
        return classes, softmax(((queries - mean) / scale) @ weights + bias)
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train)
    fitted = LogisticRegression(C=0.1, max_iter=500).fit(scaler.transform(train), labels)
    return fitted.classes_, fitted.predict_proba(scaler.transform(queries))


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Print and return each head's top-1 and its pooled held-out rates at the chosen points."""
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument("--heads", choices=("titlehead", "all"), default="titlehead")
    args = parser.parse_args(argv)
    vectors, colours, rows, ms, colour_ms = title_sets(args)
    catalogs = title_splits(len(args.seed) * args.titles, args.known, args.splits)
    print(
        f"{args.model}: {len(rows)} images, {ms:.1f} ms per image embedded (batches of 32),"
        f" {colour_ms:.2f} ms per colour histogram; {len(catalogs)} splits of"
        f" {args.known} catalogued / {len(catalogs[0][1])} unknown titles x {args.episodes}"
        " held-out episodes"
    )
    heads = [SERVED]
    if args.heads == "all":
        heads = ["centroid", "frame vote", "softmax (embedding)", *heads]
        try:
            import sklearn  # noqa: F401

            heads.append("sklearn logistic")
        except ImportError:
            pass
    results = {}
    for name in heads:
        folds, fit_s = held_out_folds(name, vectors, colours, rows, catalogs)
        results[name] = report(name, folds, fit_s)
    return results


Transform = Callable[[np.ndarray, np.ndarray], Callable[[np.ndarray], np.ndarray]]


def held_out_folds(
    name: str,
    vectors: np.ndarray,
    colours: np.ndarray,
    rows: np.ndarray,
    catalogs: list[tuple[np.ndarray, np.ndarray]],
    transform: Transform | None = None,
) -> tuple[list[Fold], float]:
    """Every split x held-out episode measured with head `name`, and the mean seconds a fold
    (fit and query). `transform`, when given, learns a map of the embeddings from the fold's
    catalog alone (its known titles' other episodes, clean and perturbed: vectors, titles) and
    the head is then fitted and queried on mapped vectors."""
    title, episode, perturbed = rows[:, 0], rows[:, 1], rows[:, 2]
    folds, fit_s = [], 0.0
    for split, (known_titles, unknown_titles) in enumerate(catalogs):
        for held in np.unique(episode).tolist():
            in_known, in_unknown = np.isin(title, known_titles), np.isin(title, unknown_titles)
            train = in_known & (episode != held) & (perturbed == 0)
            asked = (in_known | in_unknown) & (episode == held) & (perturbed == 1)
            truth = np.where(in_known[asked], title[asked], -1)
            started = time.perf_counter()
            fitted, queried = vectors[train], vectors[asked]
            if transform is not None:
                learn = in_known & (episode != held)
                mapped = transform(vectors[learn], title[learn])
                fitted, queried = mapped(fitted), mapped(queried)
            classes, probs, similarity = head_probabilities(
                name, (fitted, colours[train]), title[train], (queried, colours[asked])
            )
            fit_s += time.perf_counter() - started
            guess = classes[probs.argmax(axis=1)]
            table = np.stack([guess == truth, probs.max(axis=1), similarity], axis=1)
            known, unknown = truth >= 0, truth < 0
            folds.append(
                Fold(
                    split,
                    held,
                    table[known],
                    table[unknown],
                    title[asked][known],
                    title[asked][unknown],
                )
            )
    return folds, fit_s / len(folds)


def rate(hits: np.ndarray, n: np.ndarray) -> str:
    """`share [Wilson 95%] {title bootstrap 95%} (hits/n)` of per-title counts: Wilson's treats
    queries as independent; the queries of one title move together, so the bootstrap that
    resamples titles (`title_interval`) is the honest one when they disagree."""
    hit, total = int(np.sum(hits)), int(np.sum(n))
    low, high = binomtest(hit, total).proportion_ci(0.95, method="wilson") if total else (0, 1)
    b_low, b_high = title_interval(hits, n)
    return (
        f"{hit / max(total, 1):.3f} [{low:.3f}, {high:.3f}] {{{b_low:.3f}, {b_high:.3f}}}"
        f" ({hit}/{total})"
    )


def title_interval(
    hits: np.ndarray, n: np.ndarray, draws: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """95% percentile interval of the pooled share sum(hits) / sum(n) when whole titles are
    resampled with replacement (`hits`, `n`: per title; titles with n = 0 are left out)."""
    hits, n = np.asarray(hits, float), np.asarray(n, float)
    hits, n = hits[n > 0], n[n > 0]
    if not len(n):
        return 0.0, 1.0
    weights = np.random.default_rng(seed).multinomial(len(n), np.full(len(n), 1 / len(n)), draws)
    shares = (weights @ hits) / (weights @ n)
    low, high = np.percentile(shares, [2.5, 97.5])
    return float(low), float(high)


def choose_point(folds: list[Fold], test: Fold) -> tuple[float, float]:
    """The operating point (<= 4% wrong, >= 96% of unknown titles unknown) chosen on the folds
    that share neither the held-out episode nor the unknown titles of `test` (other episodes of
    the same split when there is only one)."""
    single = len({fold.split for fold in folds}) == 1
    rest = [
        fold
        for fold in folds
        if fold.episode != test.episode and (single or fold.split != test.split)
    ]
    known = np.concatenate([fold.known for fold in rest])
    unknown = np.concatenate([fold.unknown for fold in rest])
    return operating_point(known, unknown, 0.04, 0.96)[:2]


def accept(fold: Fold, point: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(answered known-title queries, accepted unknown-title queries) of one fold at `point`,
    as masks."""
    answered = (fold.known[:, 1] >= point[0]) & (fold.known[:, 2] >= point[1])
    accepted = (fold.unknown[:, 1] >= point[0]) & (fold.unknown[:, 2] >= point[1])
    return answered, accepted


def counts(fold: Fold, point: tuple[float, float]) -> tuple[int, int, np.ndarray]:
    """(right, wrong, accepted unknown-title queries as a mask) of one fold at `point`."""
    answered, accepted = accept(fold, point)
    right = int((answered & (fold.known[:, 0] == 1)).sum())
    return right, int(answered.sum()) - right, accepted


def pooled(
    folds: list[Fold], points: list[tuple[float, float]]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per title (hits, n) of right, wrong and unknown titles kept unknown, over every fold at
    its point (index: title number)."""
    everyone = np.concatenate([np.r_[f.known_titles, f.unknown_titles] for f in folds])
    titles = 1 + int(everyone.max(initial=0))
    sums = {key: np.zeros(titles) for key in ("right", "wrong", "known", "kept", "unknown")}
    for fold, point in zip(folds, points, strict=True):
        answered, accepted = accept(fold, point)
        right = answered & (fold.known[:, 0] == 1)
        for key, mask, at in (
            ("right", right, fold.known_titles),
            ("wrong", answered & ~right, fold.known_titles),
            ("known", np.ones(len(fold.known), bool), fold.known_titles),
            ("kept", ~accepted, fold.unknown_titles),
            ("unknown", np.ones(len(fold.unknown), bool), fold.unknown_titles),
        ):
            sums[key] += np.bincount(at[mask].astype(int), minlength=titles)
    return {
        "right": (sums["right"], sums["known"]),
        "wrong": (sums["wrong"], sums["known"]),
        "unknown_titles_unknown": (sums["kept"], sums["unknown"]),
    }


def report(name: str, folds: list[Fold], fit_s: float) -> dict[str, float]:
    """Print a head's rates pooled over every held-out fold, each at the point chosen on the
    folds that share nothing with it, with Wilson and title bootstrap intervals; the folds one
    by one; the unknown titles most often answered; for the served head also its rates at the
    shipped defaults."""
    points = [choose_point(folds, fold) for fold in folds]
    top1 = np.concatenate([fold.known for fold in folds])[:, 0].mean()
    scores = pooled(folds, points)
    cs, ss = [p[0] for p in points], [p[1] for p in points]
    print(
        f"{name}: top-1 {top1:.3f}, fit+query {fit_s:.1f} s a fold; {len(folds)} held-out folds,"
        f" points chosen on the others: c {min(cs):.2f}-{max(cs):.2f},"
        f" s {min(ss):.2f}-{max(ss):.2f}"
    )
    for key, (hits, n) in scores.items():
        print(f"    {key:24s} {rate(hits, n)}")
    if name.startswith("titlehead"):
        shipped = pooled(folds, [(MIN_TITLE_CONFIDENCE, MIN_TITLE_SIMILARITY)] * len(folds))
        print(
            f"    at the defaults ({MIN_TITLE_CONFIDENCE:.2f}, {MIN_TITLE_SIMILARITY:.2f}): "
            + ", ".join(f"{key} {rate(*value)}" for key, value in shipped.items())
        )
    line = "    each fold (split.episode: right / wrong / unknown titles unknown):"
    answered_by_title: dict[int, int] = {}
    for fold, point in zip(folds, points, strict=True):
        right, wrong, accepted = counts(fold, point)
        line += (
            f" {fold.split + 1}.{fold.episode} {right / len(fold.known):.2f}/"
            f"{wrong / len(fold.known):.2f}/{1 - accepted.mean():.2f}"
        )
        for t in fold.unknown_titles[accepted]:
            answered_by_title[int(t)] = answered_by_title.get(int(t), 0) + 1
    print(line)
    worst = sorted(answered_by_title.items(), key=lambda item: -item[1])[:3]
    n_title = len(folds[0].unknown_titles) // max(len(set(folds[0].unknown_titles.tolist())), 1)
    print(
        "    unknown titles most often answered (of ~"
        f"{n_title * len({f.episode for f in folds})} queries each): "
        + (", ".join(f"title {t} {n}" for t, n in worst) or "none")
    )
    return {"top1": float(top1), **{k: h.sum() / max(n.sum(), 1) for k, (h, n) in scores.items()}}


if __name__ == "__main__":
    main()
