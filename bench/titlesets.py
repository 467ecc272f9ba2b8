"""The generated title sets, and their splits into catalogued and unknown titles, that
`bench/titlehead.py` and `bench/projection.py` measure on.

Each `--seed` is a set of `--titles` generated titles, `--episodes` episodes of `--seconds` 1 s
frames; every other frame also gives a query (one random perturbation, primary query view).
Vectors, palettes (the catalog's as ingestion stores them, a query's as identify computes it)
and rows (title, episode, perturbed) are cached per set, so a model is embedded once and every
bench reads the same frames. Run alone, it only builds the caches (e.g. a fine-tuned export's,
before `bench.projection --versus`):

    .venv/bin/python -m bench.titlesets --model run/embedder.keras --cache /tmp/ft.npz
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
from index.query.colour import colour_histogram, stored_colours  # noqa: E402
from index.query.screenshot import query_views  # noqa: E402
from synthetic.perturb import PERTURBATIONS  # noqa: E402
from synthetic.render import render_frame  # noqa: E402
from synthetic.titles import make_titles  # noqa: E402

Cached = tuple[np.ndarray, np.ndarray, np.ndarray, float, float]


def title_sets(args: argparse.Namespace) -> Cached:
    """Every `--seed`'s title set (`--titles` each) embedded and stacked, titles numbered on
    across sets; each set cached on its own (`--cache` for the first, `<stem>-seed<N>` beside
    it for the others), so adding a seed reuses the sets already embedded."""
    sets = []
    for at, seed in enumerate(args.seed):
        vectors, colours, rows, ms, colour_ms = embed_titles(args, seed, set_cache(args, at))
        sets.append((vectors, colours, rows + np.array([at * args.titles, 0, 0]), ms, colour_ms))
    vectors, colours, rows = (np.concatenate([part[i] for part in sets]) for i in range(3))
    return vectors, colours, rows, np.mean([p[3] for p in sets]), np.mean([p[4] for p in sets])


def set_cache(args: argparse.Namespace, at: int) -> Path | None:
    """The cache of the `at`-th title set: `--cache` for the first, `<stem>-seed<N>` beside it
    for the others."""
    cache = args.cache
    if cache and at:
        return cache.with_name(f"{cache.stem}-seed{args.seed[at]}{cache.suffix}")
    return cache


def title_splits(total: int, known: int, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(catalogued titles, unknown titles) of each split. One split: the first `known` titles
    catalogued, every other unknown (the bench before 14:40). Several: disjoint unknown sets of
    total // count titles, so every title is unknown in one split at most, and `known`
    catalogued titles beside each (the ones before it, cyclically)."""
    if count == 1:
        return [(np.arange(known), np.arange(known, total))]
    size = total // count
    if size > total - known:
        raise SystemExit(f"{count} splits of {total} titles leave no room for {known} known")
    return [
        ((j * size + np.arange(known)) % total, (known + j * size + np.arange(size)) % total)
        for j in range(count)
    ]


def embed_titles(args: argparse.Namespace, seed: int, cache: Path | None) -> Cached:
    """(vectors, palettes, rows of title/episode/perturbed, ms per image embedded, ms per
    palette) of one title set, from `cache` when present; a cache of plain histograms alone
    (before the grey one, 2026-11-30 18:00) keeps its vectors and has its palettes redone."""
    saved = dict(np.load(cache)) if cache and cache.is_file() else {}
    if "palettes" in saved:
        keys = ("vectors", "palettes", "rows")
        return (*(saved[k] for k in keys), float(saved["ms"]), float(saved["colour_ms"]))
    embedder = None
    if "stored_colours" not in saved:  # a cache of preview histograms (before schema 5) is redone
        from model.registry import load_embedder

        embedder = load_embedder(args.model, args.cache_dir)
    rng = random.Random(args.perturb_seed)
    rows, vectors, colours, seconds, colour_seconds = [], [], [], 0.0, 0.0
    for index, style in enumerate(make_titles(args.titles, seed=seed)):
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
        if embedder is not None:
            vectors += [embedder.embed(images[i : i + 32]) for i in range(0, len(images), 32)]
        seconds += time.perf_counter() - started
        started = time.perf_counter()
        colours += [  # a query's as `index.query.identify` computes it, a frame's as stored
            colour_histogram(image) if data is None else stored_colours([data])[0]
            for image, data in zip(images, stored, strict=True)
        ]
        colour_seconds += time.perf_counter() - started
    n = len(rows)
    if embedder is None and not np.array_equal(saved["rows"], rows):
        raise SystemExit(f"{cache}: its rows are not these (other --titles/--episodes/--seconds?)")
    ms = 1000 * seconds / n if embedder is not None else float(saved["ms"])
    result = (
        np.concatenate(vectors) if embedder is not None else saved["vectors"],
        np.array(colours),
        np.array(rows),
    )
    colour_ms = 1000 * colour_seconds / n
    if cache:
        np.savez(
            cache, vectors=result[0], palettes=result[1], rows=result[2], ms=ms, colour_ms=colour_ms
        )
    return (*result, ms, colour_ms)


def bench_parser(description: str) -> argparse.ArgumentParser:
    """The title sets, splits and folds' arguments (shared with `bench/projection.py`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", default="efficientnet-lite0")
    parser.add_argument("--seed", type=int, nargs="+", default=[11, 12, 13, 14], help="title sets")
    parser.add_argument("--titles", type=int, default=20, help="generated titles per seed")
    parser.add_argument("--known", type=int, default=12, help="catalogued titles per split")
    parser.add_argument("--splits", type=int, default=8, help="disjoint sets of unknown titles")
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--perturb-seed", type=int, default=5)
    parser.add_argument("--cache", type=Path, help="embeddings .npz: read if present, else write")
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "shazam-anime")
    return parser


def main(argv: list[str] | None = None) -> Cached:
    """Embed every title set not cached yet and print where the caches are."""
    args = bench_parser(__doc__.splitlines()[0]).parse_args(argv)
    cached = title_sets(args)
    caches = [str(set_cache(args, at)) for at in range(len(args.seed))] if args.cache else []
    print(f"{args.model}: {len(cached[2])} images, {cached[3]:.1f} ms per image embedded;", *caches)
    return cached


if __name__ == "__main__":
    main()
