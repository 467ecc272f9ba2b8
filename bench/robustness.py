"""Recall@1 and exact-frame accuracy per perturbation, by fit policy and query views; thresholds.

Generated titles/episodes are written as videos and ingested with the real Lite0; queries are
frames the reader kept, perturbed. Configurations run side by side on the same queries:
fit policy (resize, pad, center-crop) with query views (trim/player crop + mirror) on, and resize
with views off. `--calibrate` also measures best-similarity distributions of (a) perturbed known
frames and (b) unseen generated titles and scikit-image photos, to choose `min_similarity`.
`--rerank off,0.02` adds the default adaptive config with the spatial re-rank off and at that
`rerank_margin`, and prints the share of queries re-ranked and the ms per re-ranked query.
`--sure 0.88,0.92` adds adaptive configs (primary view first, other views only when the first
answer is below that `sure_similarity`, or its best hit's picture disagrees with the query, see
`index.query.flipcheck`) beside "resize + views" (every view, always), and prints the share of
queries that needed the second pass, to choose `IdentifyParams.sure_similarity`;
`--agreement 0.85,off`
runs each level with those `sure_agreement` levels instead of the default. `--inner` adds the
default adaptive config with and without the picture-inside-the-picture views
(`index.query.inner`), and prints which view answered and the ms per detection. The "clean" row
is unperturbed 1280x720 screenshots; crop_any a crop of 55-97% of the area (crop70's 70% sits on
the re-rank's grid of scales, a user's crop rarely does); screen_photo, picture_in_picture and
edit_stack come from `synthetic.pictures`. Beside exact frame, "in scene" counts answers whose
scene (`Match.start` to `Match.end`, the from-to the API gives) holds the query's moment, with
the median from-to length (docs/pictures.md). `--milvus` adds "resize + views" on a milvus-lite
store (the same accuracy on both vector engines). Run from the repo root:

    .venv/bin/python -m bench.robustness --titles 4 --episodes 2 --queries 16 --calibrate
    .venv/bin/python -m bench.robustness --fits resize --sure 0.90,0.92 --agreement 0.85,0.9,off
    .venv/bin/python -m bench.robustness --fits resize --rerank off,0.02,0.0
    .venv/bin/python -m bench.robustness --fits resize --inner
    .venv/bin/python -m bench.robustness --default-only --only screen_photo --queries 48 \\
        --query-seeds 4-27   # held out: 1,152 pictures the rules were not tuned on
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from PIL import Image  # noqa: E402

from app.config import Settings  # noqa: E402
from bench.robustness_tables import Score, print_calibration, print_table  # noqa: E402
from index.ingest.ingestor import Ingestor  # noqa: E402
from index.ingest.readers import read_video  # noqa: E402
from index.query.identify import Identifier  # noqa: E402
from index.query.params import IdentifyParams  # noqa: E402
from index.store.backend import VectorBackend  # noqa: E402
from index.store.frame_store import FrameStore  # noqa: E402
from model.registry import DEFAULT_EMBEDDER, load_embedder  # noqa: E402
from synthetic.perturb import PERTURBATIONS, crop_any  # noqa: E402
from synthetic.pictures import PICTURES  # noqa: E402
from synthetic.render import render_frame  # noqa: E402
from synthetic.titles import TitleStyle, make_titles  # noqa: E402
from synthetic.video import write_episode  # noqa: E402
from training.index_projection import reference_projection  # noqa: E402

SIZE = (640, 360)
CLEAN_SIZE = (1280, 720)  # a clean screenshot is usually larger than the catalogued frame
INTERVAL = 0.5
OPEN = dict(min_similarity=-1.0, min_margin=0.0)  # measure, do not reject
# The rows: unperturbed screenshots, each single edit, a crop of any size, pictures of pictures.
ROWS = {"clean": None, **PERTURBATIONS, "crop_any": crop_any, **PICTURES}


@dataclass(frozen=True)
class Query:
    style: TitleStyle
    episode: int
    time: float
    image: Image.Image


@dataclass(frozen=True)
class Config:
    name: str
    fit: str
    params: IdentifyParams
    engine: str = "hnswlib"  # the store's vector engine


def _engine(name: str, root: Path) -> VectorBackend | None:
    """None: the store's default (hnswlib); else Milvus, embedded, under `root`."""
    if name == "hnswlib":
        return None
    from index.store.milvus import MilvusBackend

    return MilvusBackend(str(root / "milvus" / "milvus.db"))


def _catalog(
    titles: list[TitleStyle], episodes: int, seconds: float, folder: Path
) -> dict[tuple[str, int], Path]:
    videos = {}
    for style in titles:
        for episode in range(1, episodes + 1):
            path = folder / f"{style.name} - {episode:02d}.mp4"
            write_episode(style, episode, path, seconds=seconds, size=SIZE)
            videos[(style.name, episode)] = path
    return videos


def _queries(
    titles: list[TitleStyle],
    videos: dict[tuple[str, int], Path],
    count: int,
    seeds: list[int],
    only: frozenset[str] = frozenset(),
) -> dict[str, list[Query]]:
    """Per perturbation (those in `only`, when given), `count` perturbed frames from each seed,
    pooled (other seeds than the catalog's: pictures the rules were not tuned on); "clean" is
    unperturbed 1280x720 screenshots. A perturbation's queries do not depend on which others run."""
    kept = {key: [frame.timestamp for frame in read_video(path)] for key, path in videos.items()}
    by_name = {style.name: style for style in titles}
    out: dict[str, list[Query]] = {}
    for name, perturb in ROWS.items():
        if only and name not in only:
            continue
        queries = []
        for seed in seeds:
            rng = random.Random(f"{seed}:{name}")
            for _ in range(count):
                title, episode = rng.choice(sorted(kept))
                time_s = rng.choice(kept[(title, episode)])
                if perturb is None:
                    image = render_frame(by_name[title], episode, time_s, CLEAN_SIZE)
                else:
                    image = perturb(render_frame(by_name[title], episode, time_s, SIZE), rng)
                queries.append(Query(by_name[title], episode, time_s, image))
        out[name] = queries
    return out


def _seeds(text: str) -> list[int]:
    """Seeds written "4-6,9" as [4, 5, 6, 9]."""
    seeds: list[int] = []
    for part in filter(None, text.split(",")):
        first, _, last = part.partition("-")
        seeds += range(int(first), int(last or first) + 1)
    return seeds


def _score(identifier: Identifier, queries: list[Query]) -> Score:
    right_title = exact = in_scene = second_pass = reranked = 0
    spans = []
    rerank_s = inner_s = 0.0
    detections = 0
    views: dict[str, int] = {}
    sims = []
    for query in queries:
        result = identifier.identify(query.image, top_k=1)
        match = result.match
        sims.append(result.best_similarity)
        second_pass += result.views_searched > 1
        if "inner" in result.timings:
            detections += 1
            inner_s += result.timings["inner"]
        if match is not None:
            views[match.view] = views.get(match.view, 0) + 1
        if "rerank" in result.timings:
            reranked += 1
            rerank_s += result.timings["rerank"]
        if match is not None and match.title == query.style.name:
            right_title += 1
            same_episode = match.episode == str(query.episode)
            exact += same_episode and abs(match.timestamp - query.time) <= INTERVAL + 1e-3
            if match.start is not None and match.end is not None:
                spans.append(match.end - match.start)
                in_scene += same_episode and match.start - 1e-3 <= query.time <= match.end + 1e-3
    count = len(queries)
    per_rerank = rerank_s / reranked if reranked else 0.0
    return (
        right_title / count,
        exact / count,
        sims,
        second_pass / count,
        reranked / count,
        per_rerank,
        views,
        inner_s / detections if detections else 0.0,
        in_scene / count,
        spans,
    )


def _unknown_images(count: int, seed: int) -> list[Image.Image]:
    """Frames of titles never catalogued, and package photos, some perturbed like queries."""
    import skimage.data

    rng = random.Random(seed)
    unseen = make_titles(40, seed=seed + 1000)[-10:]
    images = [
        render_frame(rng.choice(unseen), rng.randint(1, 3), rng.uniform(0, 60), SIZE)
        for _ in range(count)
    ]
    photos = ("astronaut", "coffee", "chelsea", "rocket", "camera", "hubble_deep_field")
    images += [Image.fromarray(getattr(skimage.data, name)()).convert("RGB") for name in photos]
    perturbs = list(PERTURBATIONS.values())
    return images + [rng.choice(perturbs)(image, rng) for image in images]


def main(argv: list[str] | None = None) -> dict[str, dict[str, Score]]:
    """Print the tables; return the scores by configuration and perturbation."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--titles", type=int, default=4)
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--queries", type=int, default=16, help="per perturbation")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--query-seeds",
        default="",
        help="held-out queries: --queries per perturbation from each of these seeds, e.g. 4-27, "
        "against --seed's catalog (default: --seed's own queries)",
    )
    parser.add_argument(
        "--only", default="", help="these perturbations only, e.g. crop70,edit_stack (default: all)"
    )
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--fits", default="resize,pad,center-crop", help="fit policies with views")
    parser.add_argument("--sure", default="", help="sure_similarity levels, e.g. 0.9,0.92")
    parser.add_argument(
        "--agreement",
        default="",
        help="sure_agreement levels for each --sure level, 'off' for none (default: the default)",
    )
    parser.add_argument(
        "--rerank",
        default="",
        help="default adaptive configs: 'off' (no re-rank) or rerank_margin levels, e.g. off,0.02",
    )
    parser.add_argument(
        "--inner", action="store_true", help="default adaptive config with inner views off / on"
    )
    parser.add_argument(
        "--default-only",
        action="store_true",
        help="only the service's default config (thresholds open), e.g. for held-out seeds",
    )
    parser.add_argument(
        "--milvus", action="store_true", help="also 'resize + views' on a milvus-lite store"
    )
    parser.add_argument(
        "--index-dims",
        type=int,
        default=Settings.model_fields["index_dims"].default,
        help="dims the vector index holds (SHAZAM_INDEX_DIMS; 0: all)",
    )
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "shazam-anime")
    parser.add_argument(
        "--model", default=DEFAULT_EMBEDDER, help="a built-in name or an exported .keras model"
    )
    args = parser.parse_args(argv)

    only = frozenset(filter(None, args.only.split(",")))
    unlisted = only - set(ROWS)
    if unlisted:
        parser.error(f"unknown perturbations: {', '.join(sorted(unlisted))}")
    base = load_embedder(args.model, args.cache_dir)
    titles = make_titles(args.titles, seed=args.seed)
    every_view = dict(OPEN, sure_similarity=None)
    configs = [
        Config("resize + views", "resize", IdentifyParams(**every_view)),
        Config("resize, no views", "resize", IdentifyParams(**OPEN, mirror=False, crop=False)),
    ]
    configs += [
        Config(f"{fit} + views", fit, IdentifyParams(**every_view))
        for fit in args.fits.split(",")
        if fit != "resize"
    ]
    agreements = [None if a == "off" else float(a) for a in filter(None, args.agreement.split(","))]
    for level in filter(None, args.sure.split(",")):
        adaptive = dict(OPEN, sure_similarity=float(level))
        if not agreements:
            configs.append(Config(f"resize, sure {level}", "resize", IdentifyParams(**adaptive)))
        for agree in agreements:
            params = IdentifyParams(**adaptive, sure_agreement=agree)
            configs.append(Config(f"sure {level}, agree {agree or 'off'}", "resize", params))
    for level in filter(None, args.rerank.split(",")):
        knobs = dict(rerank_candidates=0) if level == "off" else dict(rerank_margin=float(level))
        configs.append(Config(f"rerank {level}", "resize", IdentifyParams(**OPEN, **knobs)))
    if args.inner:
        configs.append(Config("inner off", "resize", IdentifyParams(**OPEN, inner=False)))
        configs.append(Config("inner on (default)", "resize", IdentifyParams(**OPEN)))
    if args.default_only:
        configs = [Config("default", "resize", IdentifyParams(**OPEN))]
    if args.milvus:
        configs.append(Config("resize + views, Milvus", "resize", configs[0].params, "milvus"))
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        started = time.perf_counter()
        videos = _catalog(titles, args.episodes, args.seconds, root / "videos")
        seeds = _seeds(args.query_seeds) or [args.seed]
        queries = _queries(titles, videos, args.queries, seeds, only)
        per_row = len(next(iter(queries.values())))
        print(f"{len(videos)} episodes of {args.seconds:.0f} s, {per_row} queries per "
              f"perturbation, made in {time.perf_counter() - started:.0f} s")  # fmt: skip
        stores: dict[tuple[str, str], tuple[FrameStore, object]] = {}
        results: dict[str, dict[str, Score]] = {}
        for config in configs:
            key = (config.fit, config.engine)
            if key not in stores:
                embedder = copy.copy(base)
                embedder.fit = config.fit  # KerasEmbedder applies `fit` per call
                store = FrameStore.open(
                    root / config.fit / config.engine,
                    dim=base.dim,
                    model_name=base.name,
                    backend=_engine(config.engine, root),
                    projection=reference_projection(base, args.cache_dir, args.index_dims),
                )
                for (title, _episode), path in videos.items():
                    Ingestor(embedder, store).ingest(title, [path])
                stores[key] = (store, embedder)
            store, embedder = stores[key]
            identifier = Identifier(embedder, store, config.params)
            results[config.name] = {
                name: _score(identifier, batch) for name, batch in queries.items()
            }
        print_table(results)
        if args.calibrate:
            store, embedder = stores[("resize", "hnswlib")]
            unknown = Identifier(embedder, store, IdentifyParams(**OPEN))
            unknown_sims = [
                unknown.identify(image).best_similarity
                for image in _unknown_images(args.queries * 2, args.seed)
            ]
            known_sims = [s for score in results["resize + views"].values() for s in score[2]]
            print_calibration(known_sims, unknown_sims)
        for store, _ in stores.values():
            store.close()
    return results


if __name__ == "__main__":
    main()
