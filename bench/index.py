"""Frame-store benchmark: build, recall@k vs exact search, queries/s, disk bytes, save/open times.

Run from the repo root: `.venv/bin/python -m bench.index` (100k x 1280), or add `--n 20000` for a
quick run.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from index.store.checkpoint import INDEX_FILE
from index.store.frame_store import FrameStore
from index.types import FrameRecord, SourceRecord
from training.metrics import exact_top_k, neighbour_recall

SOURCE_FRAMES = 1000  # frames per add(): one episode-sized source


@dataclass
class Dataset:
    name: str
    base: np.ndarray  # (n, dim) unit float32
    queries: np.ndarray  # (q, dim) unit float32, held out of the base


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def clustered(n: int, q: int, dim: int, clusters: int, spread: float, seed: int) -> Dataset:
    """Frames of many scenes: Gaussian clusters; queries are new draws from the same clusters."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)

    def draw(count: int) -> np.ndarray:
        out = np.empty((count, dim), dtype=np.float32)
        for start in range(0, count, 10_000):
            stop = min(count, start + 10_000)
            members = rng.integers(0, clusters, size=stop - start)
            noise = rng.normal(size=(stop - start, dim)).astype(np.float32)
            out[start:stop] = unit(centres[members] + spread * noise)
        return out

    return Dataset(f"clustered ({clusters} clusters)", draw(n), draw(q))


def uniform(n: int, q: int, dim: int, seed: int) -> Dataset:
    """Directions uniform on the sphere: no structure, the hardest case for HNSW."""
    rng = np.random.default_rng(seed)
    base = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 10_000):
        stop = min(n, start + 10_000)
        base[start:stop] = unit(rng.normal(size=(stop - start, dim)).astype(np.float32))
    return Dataset("uniform", base, unit(rng.normal(size=(q, dim)).astype(np.float32)))


def tiny_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 18), (40, 90, 160)).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def run(data: Dataset, args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    n, dim = data.base.shape
    store_dir = workdir / data.name.split()[0]
    thumbnail = tiny_jpeg()
    store = FrameStore.open(
        store_dir,
        dim=dim,
        model_name="bench",
        m=args.m,
        ef_construction=args.ef_construction,
        ef=args.ef,
        num_threads=args.threads,
        checkpoint_min_changes=10**12,  # measure the checkpoint on its own below
    )
    vectors = store._state.vectors
    index_seconds = 0.0
    real_add = vectors.add

    def timed_add(labels: object, rows: np.ndarray) -> None:
        nonlocal index_seconds
        started = time.perf_counter()
        real_add(labels, rows)
        index_seconds += time.perf_counter() - started

    vectors.add = timed_add  # type: ignore[method-assign]
    started = time.perf_counter()
    for number, start in enumerate(range(0, n, SOURCE_FRAMES)):
        stop = min(n, start + SOURCE_FRAMES)
        frames = [
            FrameRecord(timestamp=float(i - start), content_hash=f"f{i}", thumbnail=thumbnail)
            for i in range(start, stop)
        ]
        source = SourceRecord(f"Title {number % 50}", "video", f"s{number}.mkv", f"s{number}")
        store.add(source, frames, data.base[start:stop])
    build_seconds = time.perf_counter() - started
    del vectors.add
    # frame id of each base row, from the catalog (content_hash "f{row}")
    label_of_row = np.empty(n, dtype=np.int64)
    with store._catalog.reader() as conn:
        for frame_id, content_hash in conn.execute("SELECT id, content_hash FROM frames"):
            label_of_row[int(content_hash[1:])] = frame_id

    started = time.perf_counter()
    store.save()
    save_seconds = time.perf_counter() - started
    store.close()

    started = time.perf_counter()
    store = FrameStore.open(
        store_dir, dim=dim, model_name="bench", ef=args.ef, num_threads=args.threads
    )
    open_seconds = time.perf_counter() - started

    truth = label_of_row[exact_top_k(data.base, data.queries, args.k)]
    per_ef = {}
    for ef in args.ef_sweep:
        store._state.vectors.set_ef(ef)
        started = time.perf_counter()
        batched = store.search(data.queries, args.k)
        batch_seconds = time.perf_counter() - started
        singles = data.queries[: args.single_queries]
        started = time.perf_counter()
        for row in singles:
            store.search(row[None, :], args.k)
        single_seconds = time.perf_counter() - started
        found = [[hit.frame_id for hit in row] for row in batched]
        per_ef[ef] = {
            "recall_at_k": neighbour_recall(found, truth),
            "qps_batched": len(data.queries) / batch_seconds,
            "qps_single": len(singles) / single_seconds,
        }

    started = time.perf_counter()
    numpy_scores = data.queries[: args.single_queries] @ data.base.T
    np.argpartition(-numpy_scores, args.k - 1, axis=1)
    brute_qps = args.single_queries / (time.perf_counter() - started)
    stats = store.stats().extra
    store.close()

    rebuild_seconds = None
    if args.rebuild:
        (store_dir / INDEX_FILE).write_bytes(b"damaged")
        started = time.perf_counter()
        FrameStore.open(store_dir, dim=dim, model_name="bench", num_threads=args.threads).close()
        rebuild_seconds = time.perf_counter() - started

    raw = dim * 4
    catalog_bytes = int(stats["catalog_bytes"])
    return {
        "dataset": data.name,
        "n": n,
        "dim": dim,
        "build_seconds_total": build_seconds,
        "build_seconds_hnswlib": index_seconds,
        "inserts_per_second": n / build_seconds,
        "save_seconds": save_seconds,
        "open_seconds": open_seconds,
        "rebuild_from_catalog_seconds": rebuild_seconds,
        "raw_vector_bytes": raw,
        "index_bytes_per_vector": int(stats["index_bytes"]) / n,
        "catalog_bytes_per_frame": catalog_bytes / n,
        "catalog_bytes_per_frame_without_thumbnail": catalog_bytes / n - len(thumbnail),
        "numpy_brute_force_qps_batched": brute_qps,
        "per_ef": per_ef,
    }


def report(result: dict[str, object], k: int) -> None:
    raw = result["raw_vector_bytes"]
    print(f"\n== {result['dataset']}: n={result['n']} dim={result['dim']}")
    print(
        f"build {result['build_seconds_total']:.1f} s ({result['inserts_per_second']:.0f} frames/s;"
        f" hnswlib {result['build_seconds_hnswlib']:.1f} s, rest SQLite)"
    )
    print(f"save {result['save_seconds']:.2f} s   open {result['open_seconds']:.2f} s", end="")
    if result["rebuild_from_catalog_seconds"] is not None:
        print(f"   rebuild from catalog {result['rebuild_from_catalog_seconds']:.1f} s")
    else:
        print()
    print(
        f"bytes/vector: raw {raw}, index {result['index_bytes_per_vector']:.0f}"
        f" ({result['index_bytes_per_vector'] / raw:.2f}x), catalog"
        f" {result['catalog_bytes_per_frame_without_thumbnail']:.0f}"
        f" ({result['catalog_bytes_per_frame_without_thumbnail'] / raw:.2f}x, thumbnail excluded)"
    )
    print(f"numpy exact search: {result['numpy_brute_force_qps_batched']:.0f} queries/s (batched)")
    for ef, row in result["per_ef"].items():
        print(
            f"ef={ef:<4} recall@{k}={row['recall_at_k']:.4f}  queries/s batched"
            f" {row['qps_batched']:.0f}, one at a time {row['qps_single']:.0f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="reference vectors")
    parser.add_argument("--dim", type=int, default=1280)
    parser.add_argument("--clusters", type=int, default=2000)
    parser.add_argument("--spread", type=float, default=0.5, help="noise / centre scale")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--single-queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--ef", type=int, default=128)
    parser.add_argument("--ef-sweep", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--uniform-n", type=int, default=None, help="default: --n")
    parser.add_argument(
        "--datasets", nargs="+", choices=["clustered", "uniform"], default=["clustered", "uniform"]
    )
    parser.add_argument("--rebuild", action="store_true", help="also time a rebuild at open")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temp dir")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="shazam-bench-"))
    results = []
    try:
        uniform_n = args.n if args.uniform_n is None else args.uniform_n
        makers = {
            "clustered": lambda: clustered(
                args.n, args.queries, args.dim, args.clusters, args.spread, seed=0
            ),
            "uniform": lambda: uniform(uniform_n, args.queries, args.dim, seed=1),
        }
        datasets = [makers[name] for name in args.datasets]
        for make in datasets:
            data = make()
            result = run(data, args, workdir)
            report(result, args.k)
            results.append(result)
            del data
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
