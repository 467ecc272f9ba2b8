"""Does a head trained on frozen backbone embeddings beat the pretrained embedding? Same head.

The warm-up stage of the seed paper's Siamese branch (backbone, GAP, Dense, L2) on CPU: a linear
map of the frozen embeddings (no bias, so it exports as that Dense), L2-normalised, trained on
each fold's catalog alone (its known titles' other episodes, clean frames and their perturbed
twins; never the held-out episode, never a title outside the catalog). Then the served head
(`index.query.titlehead`, embedding + colour, its palette gate) is fitted and queried on the
mapped vectors exactly as on the pretrained ones, on `bench/titlehead.py`'s splits and folds
(its `--cache`), each fold at the operating point chosen on the folds sharing nothing with it.

Variants (`--variants`): the map's start (`eye`: the first dims of the identity plus noise, the
projection before 2026-11-30 19:00; `pca`: the fold catalog's principal axes, the backbone's own
geometry; `residual`: identity plus a low-rank term, full width), its loss (`supcon`: supervised
contrastive, T 0.1, on P x K batches; `batch`: the training package's contrastive loss over a
P x K batch with the hardest negative, `training.siamese.BatchContrastiveLoss`; `pairs`: the
seed paper's contrastive loss on balanced Siamese pairs, `ContrastiveLoss`), steps, and weight
decay toward the start. Printed side by side with the pretrained embedding, with the paired
title-bootstrap difference of each rate. `--versus`: no map; other models' embeddings of the
same frames and queries (their own `bench/titlesets.py` caches, e.g. fine-tuned exports') against
`--cache`'s, and with several (one recipe's training seeds) their mean paired difference.
`--declines`: for each model, why the queries whose top-1 title is right are not answered (the
probability c, the gate s, both; and how many fail the gate even at probability 1: their palette
alone caps them), and the rates with either half of the gate alone. Results: docs/titlehead.md.

    .venv/bin/python -m bench.projection --cache /tmp/lite0.npz
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from bench.titlehead import (  # noqa: E402
    SERVED,
    Fold,
    choose_point,
    held_out_folds,
    pooled,
    report,
    title_interval,
)
from bench.titlesets import bench_parser, set_cache, title_sets, title_splits  # noqa: E402
from index.query.titlehead import CONFIDENCE_WEIGHT, gate_score, unit_rows  # noqa: E402
from training.head import HeadSpec, train_head  # noqa: E402

VARIANTS = {
    "eye256-supcon": HeadSpec("eye", 256, "supcon", 300, 0.0),
    "pca256": HeadSpec("pca", 256, steps=0),
    "pca512": HeadSpec("pca", 512, steps=0),
    "pca512-supcon": HeadSpec("pca", 512, "supcon"),
    "pca512-batch": HeadSpec("pca", 512, "batch"),
    "pca512-pairs": HeadSpec("pca", 512, "pairs"),  # what `train --mode head` trains
    "residual32-supcon": HeadSpec("residual", 32, "supcon"),
}


def mapping(variant: HeadSpec, fixed: tuple[np.ndarray, np.ndarray] | None = None) -> Callable:
    """The fold transform for `bench.titlehead.held_out_folds`: train on the fold's catalog,
    or once on `fixed` (vectors, titles of another title set: an export's situation, trained
    on titles no catalog here holds), and return the map to unit vectors."""
    matrix = train_head(*fixed, variant) if fixed is not None else None

    def learn(vectors: np.ndarray, labels: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        trained = matrix if matrix is not None else train_head(vectors, labels, variant)
        return lambda x: unit_rows(x @ trained)

    return learn


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Print and return top-1 and the pooled held-out rates of the served head on the
    pretrained embedding and on each variant's trained map, with paired differences."""
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--steps", type=int, help="override every variant's steps")
    parser.add_argument(
        "--versus",
        type=Path,
        nargs="+",
        help="other models' bench.titlesets caches of the same title sets (each its first set;"
        " the others beside it, -seedN): compared, with no map, against --cache's model; with"
        " several (e.g. one recipe's training seeds), also their mean paired difference",
    )
    parser.add_argument(
        "--fit-cache",
        type=Path,
        help="train each map once on this other title set's cache (every frame), not per fold",
    )
    parser.add_argument(
        "--declines",
        action="store_true",
        help="also say why top-1-right queries are not answered, and each half of the gate alone",
    )
    args = parser.parse_args(argv)
    fixed = None
    if args.fit_cache:
        saved = np.load(args.fit_cache)
        fixed = (saved["vectors"], saved["rows"][:, 0])
    vectors, colours, rows, _, _ = title_sets(args)
    catalogs = title_splits(len(args.seed) * args.titles, args.known, args.splits)
    print(
        f"{len(rows)} images; {len(catalogs)} splits of {args.known} catalogued /"
        f" {len(catalogs[0][1])} unknown titles; served head on every side; maps trained"
        + (f" once on {args.fit_cache}" if fixed else " on each fold's catalog")
    )
    results, base, compared = {}, None, []
    versus = {f"versus {path}": path for path in args.versus or []}
    names = ["pretrained", *(versus or args.variants)]
    for name in names:
        transform = None
        if name in versus:
            vectors = versus_vectors(args, versus[name], rows, colours)
        elif name != "pretrained":
            variant = VARIANTS[name]
            if args.steps is not None and variant.steps:
                variant = replace(variant, steps=args.steps)
            transform = mapping(variant, fixed)
        folds, fit_s = held_out_folds(SERVED, vectors, colours, rows, catalogs, transform)
        results[name] = report(f"{SERVED} on {name}", folds, fit_s)
        points = [choose_point(folds, fold) for fold in folds]
        scores = pooled(folds, points)
        if args.declines:
            print("    " + declined_line(declines(folds, points)))
            for part, rates in gate_parts(folds).items():
                print(f"    gate on {part}: " + ", ".join(f"{k} {v:.3f}" for k, v in rates.items()))
        if base is None:
            base = scores
            continue
        print("    paired difference to pretrained (title bootstrap): " + paired(scores, base))
        compared.append(scores)
    if len(versus) > 1:  # per title, the models' mean: one title draw moves every model at once
        mean = {
            key: (np.mean([g[key][0] for g in compared], axis=0), n) for key, (_, n) in base.items()
        }
        print(
            f"mean of the {len(versus)} --versus models, paired difference to pretrained (title"
            " bootstrap; the models themselves fixed): " + paired(mean, base)
        )
    return results


def palette_of(fold_rows: np.ndarray) -> np.ndarray:
    """The palette similarity inside the served gate of (right?, probability, gate) rows:
    `titlehead.gate_score` solved for it (the gate is linear in both)."""
    return (1 + CONFIDENCE_WEIGHT) * fold_rows[:, 2] - CONFIDENCE_WEIGHT * fold_rows[:, 1]


def declines(folds: list[Fold], points: list[tuple[float, float]]) -> dict[str, int]:
    """Counts over the known titles' queries, each fold at its point: top-1 right, answered
    right, and the top-1-right ones declined by the probability alone, the gate alone or both;
    `capped`: of those the gate declines, how many it declines even at probability 1 (the
    palette alone keeps them out, whatever the backbone); `reachable`: top-1 right and not
    capped (what a surer head would answer right at these points)."""
    total = dict.fromkeys(("queries", "top1", "right", "probability", "gate", "both"), 0)
    total |= {"capped": 0, "reachable": 0}
    for fold, (least, gate_min) in zip(folds, points, strict=True):
        top1 = fold.known[:, 0] == 1
        sure, passes = fold.known[:, 1] >= least, fold.known[:, 2] >= gate_min
        capped = gate_score(1.0, palette_of(fold.known)) < gate_min
        for key, mask in (
            ("queries", np.ones_like(top1)),
            ("top1", top1),
            ("right", top1 & sure & passes),
            ("probability", top1 & ~sure & passes),
            ("gate", top1 & sure & ~passes),
            ("both", top1 & ~sure & ~passes),
            ("capped", top1 & ~passes & capped),
            ("reachable", top1 & ~capped),
        ):
            total[key] += int(mask.sum())
    return total


def declined_line(counts: dict[str, int]) -> str:
    """`declines` in one line, shares of the known titles' queries."""
    n = max(counts["queries"], 1)
    return (
        f"top-1 right {counts['top1'] / n:.3f}, answered right {counts['right'] / n:.3f};"
        f" top-1 right but declined by the probability {counts['probability']},"
        f" the gate {counts['gate']}, both {counts['both']} (of {counts['queries']});"
        f" {counts['capped']} of those fail the gate even at probability 1 (palette-capped);"
        f" a surer head could answer {counts['reachable'] / n:.3f}"
    )


def gate_parts(folds: list[Fold]) -> dict[str, dict[str, float]]:
    """Pooled rates, each fold at the point chosen on the others, when the gate is the
    palette similarity alone (no backbone in it) or is left out (the probability alone)."""
    parts = {
        "the palette alone": lambda rows: np.c_[rows[:, :2], palette_of(rows)],
        "nothing (the probability alone)": lambda rows: np.c_[rows[:, :2], np.ones(len(rows))],
    }
    out = {}
    for name, gate in parts.items():
        alt = [replace(f, known=gate(f.known), unknown=gate(f.unknown)) for f in folds]
        scores = pooled(alt, [choose_point(alt, fold) for fold in alt])
        out[name] = {key: hits.sum() / max(n.sum(), 1) for key, (hits, n) in scores.items()}
    return out


def paired(scores: dict, base: dict) -> str:
    """Each pooled rate of `scores` minus `base`'s (per title hits, same queries), with the
    95% interval of the difference when whole titles are resampled."""
    return ", ".join(
        f"{key} {(scores[key][0] - base[key][0]).sum() / n.sum():+.3f}"
        " {{{:+.3f}, {:+.3f}}}".format(*title_interval(scores[key][0] - base[key][0], n))
        for key, (_, n) in scores.items()
    )


def versus_vectors(
    args: argparse.Namespace, cache: Path, rows: np.ndarray, colours: np.ndarray
) -> np.ndarray:
    """A `--versus` model's vectors of the same frames and queries; its caches must exist
    (nothing is embedded here) and hold the same rows and palettes as `--cache`'s."""
    versus = argparse.Namespace(**{**vars(args), "cache": cache})
    paths = [set_cache(versus, at) for at in range(len(args.seed))]
    missing = [path for path in paths if not path.is_file()]
    if missing:
        raise SystemExit(f"--versus caches missing (build them with bench.titlesets): {missing}")
    vectors, other_colours, other_rows, _, _ = title_sets(versus)
    if not np.array_equal(other_rows, rows) or not np.allclose(other_colours, colours, atol=1e-6):
        raise SystemExit(f"{cache}: not the same frames and queries as --cache")
    return vectors


if __name__ == "__main__":
    main()
