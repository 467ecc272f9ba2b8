"""Title-level recognition of unseen episodes: which per-title head, at which operating point.

Generated titles (the first `--known` catalogued, the rest never) are rendered at 1 s steps; the
catalog holds clean frames (and their colour histograms as ingestion stores them: from the full
frame, one byte a bin, `index.ingest.mapper.make_record`), queries are frames perturbed like real
screenshots (one random perturbation each, primary query view). Leave-episode-out: for each
episode, the heads are fitted on the other episodes of the known titles and queried on that episode,
and on the same episode of the unknown titles. Heads side by side: nearest centroid, the frame vote
of `index.query.vote` (k=50, T=0.03), a softmax regression on the embedding alone and scikit-learn's
logistic regression when installed (their gate: best frame similarity of the guessed title), and
`index.query.titlehead` (embedding + colour histogram; its gate: the palette similarity of the
guessed title's nearest frame blended with the head's probability, `gate_score`). The operating
point (head probability >= c and gate >= s) is chosen on the first folds (<= 4% wrong, >= 96% of
unknown titles unknown) and reported on the last fold; then every fold at the point chosen on
the others. Results: docs/titlehead.md.

    .venv/bin/python -m bench.titlehead --model efficientnet-lite0 --cache /tmp/lite0.npz
"""

from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from index.ingest.mapper import make_record  # noqa: E402
from index.ingest.readers import SampledFrame  # noqa: E402
from index.query.calibrate import operating_point  # noqa: E402
from index.query.colour import colour_histogram, stored_colours  # noqa: E402
from index.query.screenshot import query_views  # noqa: E402
from index.query.titlehead import fit_softmax, fit_title_model, softmax  # noqa: E402
from synthetic.perturb import PERTURBATIONS  # noqa: E402
from synthetic.render import render_frame  # noqa: E402
from synthetic.titles import make_titles  # noqa: E402

Cached = tuple[np.ndarray, np.ndarray, np.ndarray, float, float]


def embed_titles(args: argparse.Namespace) -> Cached:
    """(vectors, colour histograms, rows of title/episode/perturbed, ms per image embedded, ms
    per colour histogram), from `--cache` when present."""
    if args.cache and args.cache.is_file():
        saved = np.load(args.cache)
        if "stored_colours" in saved:  # a cache of preview histograms (before schema 5) is redone
            keys = ("vectors", "stored_colours", "rows")
            return (*(saved[k] for k in keys), float(saved["ms"]), float(saved["colour_ms"]))
    from model.registry import load_embedder

    embedder = load_embedder(args.model, args.cache_dir)
    rng = random.Random(args.perturb_seed)
    rows, vectors, colours, seconds, colour_seconds = [], [], [], 0.0, 0.0
    for index, style in enumerate(make_titles(args.known + args.unknown, seed=args.seed)):
        images, stored = [], []
        for episode in range(1, args.episodes + 1):
            for step in range(int(args.seconds)):
                frame = render_frame(style, episode, float(step), (640, 360))
                images.append(frame)
                stored.append(make_record(SampledFrame(frame, float(step)))[0].colour)
                rows.append((index, episode, 0))
                if step % 2 == 0:
                    perturb = PERTURBATIONS[rng.choice(sorted(PERTURBATIONS))]
                    images.append(query_views(perturb(frame, rng), mirror=False)[0])
                    stored.append(None)
                    rows.append((index, episode, 1))
        started = time.perf_counter()
        vectors += [embedder.embed(images[i : i + 32]) for i in range(0, len(images), 32)]
        seconds += time.perf_counter() - started
        started = time.perf_counter()
        colours += [  # a query's as `index.query.identify` computes it, a frame's as stored
            colour_histogram(image) if data is None else stored_colours([data])[0]
            for image, data in zip(images, stored, strict=True)
        ]
        colour_seconds += time.perf_counter() - started
    n = len(rows)
    result = np.concatenate(vectors), np.array(colours), np.array(rows)
    ms, colour_ms = 1000 * seconds / n, 1000 * colour_seconds / n
    if args.cache:
        np.savez(
            args.cache,
            vectors=result[0],
            stored_colours=result[1],
            rows=result[2],
            ms=ms,
            colour_ms=colour_ms,
        )
    return (*result, ms, colour_ms)


def head_probabilities(name: str, train, labels: np.ndarray, queries):
    """(classes, (q, k) probabilities, (q,) gate similarity of the guessed title) of one head;
    `train` and `queries` are (vectors, colour histograms)."""
    if name == "titlehead (embedding + colour)":
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
    """Print and return each head's top-1 and its held-out fold at the chosen operating point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="efficientnet-lite0")
    parser.add_argument("--known", type=int, default=12)
    parser.add_argument("--unknown", type=int, default=8)
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--seed", type=int, default=11, help="of the generated titles")
    parser.add_argument("--perturb-seed", type=int, default=5)
    parser.add_argument("--cache", type=Path, help="embeddings .npz: read if present, else write")
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "shazam-anime")
    args = parser.parse_args(argv)
    vectors, colours, rows, ms, colour_ms = embed_titles(args)
    title, episode, perturbed = rows[:, 0], rows[:, 1], rows[:, 2]
    print(
        f"{args.model}: {len(rows)} images, {ms:.1f} ms per image embedded (batches of 32),"
        f" {colour_ms:.2f} ms per colour histogram"
    )
    heads = ["centroid", "frame vote", "softmax (embedding)", "titlehead (embedding + colour)"]
    try:
        import sklearn  # noqa: F401

        heads.append("sklearn logistic")
    except ImportError:
        pass
    results = {}
    for name in heads:
        folds, fit_s = [], 0.0
        for held in range(1, args.episodes + 1):
            train = (title < args.known) & (episode != held) & (perturbed == 0)
            known = (title < args.known) & (episode == held) & (perturbed == 1)
            unknown = (title >= args.known) & (episode == held) & (perturbed == 1)
            asked = known | unknown
            truth = np.where(title[asked] < args.known, title[asked], -1)
            started = time.perf_counter()
            classes, probs, similarity = head_probabilities(
                name,
                (vectors[train], colours[train]),
                title[train],
                (vectors[asked], colours[asked]),
            )
            fit_s += time.perf_counter() - started
            guess = classes[probs.argmax(axis=1)]
            table = np.stack([guess == truth, probs.max(axis=1), similarity], axis=1)
            folds.append((table[truth >= 0], table[truth < 0]))
        top1 = np.concatenate([k for k, _ in folds])[:, 0].mean()
        c, s, right, scores = held_out(folds, len(folds) - 1)
        results[name] = {"top1": float(top1), **scores}
        print(
            f"{name:22s} top-1 {top1:.3f}  fit+query {fit_s / len(folds):5.1f} s"
            f" | c {c:.2f} s {s:.3f}: calibration right {right:.3f}"
            f" | held-out fold: right {scores['right']:.3f} wrong {scores['wrong']:.3f}"
            f" unknown titles unknown {scores['unknown_titles_unknown']:.3f}"
        )
        # Every fold, each at the point chosen on the others: is the last fold typical?
        others = [held_out(folds, test)[3] for test in range(len(folds))]
        print(
            "    each fold at the point of the others (right / wrong / unknown titles unknown):"
            + "".join(
                f" {i}: {o['right']:.3f} / {o['wrong']:.3f} / {o['unknown_titles_unknown']:.3f}"
                for i, o in enumerate(others, 1)
            )
        )
    return results


def held_out(
    folds: list[tuple[np.ndarray, np.ndarray]], test: int
) -> tuple[float, float, float, dict[str, float]]:
    """(confidence, similarity, calibration right, scores on fold `test`): the operating point
    chosen on the other folds' (known, unknown) rows of (right?, probability, gate) and what it
    gives on fold `test`."""
    rest = [fold for at, fold in enumerate(folds) if at != test]
    calibrate_on = [np.concatenate(part) for part in zip(*rest, strict=True)]
    c, s, right, _, _ = operating_point(*calibrate_on, 0.04, 0.96)
    test_known, test_unknown = folds[test]
    answered = (test_known[:, 1] >= c) & (test_known[:, 2] >= s)
    accepted = (test_unknown[:, 1] >= c) & (test_unknown[:, 2] >= s)
    return (
        c,
        s,
        right,
        {
            "right": float((answered & (test_known[:, 0] == 1)).mean()),
            "wrong": float((answered & (test_known[:, 0] == 0)).mean()),
            "unknown_titles_unknown": float(1 - accepted.mean()),
        },
    )


if __name__ == "__main__":
    main()
