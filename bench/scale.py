"""Library scale: a catalog of N frames built through the store's real add path, per vector engine.

Vectors are real Lite0 embeddings of generated anime frames plus noise (as `bench/api.py` fills
its catalog), so neighbourhoods look like a real catalog's. For each engine, side by side in one
run: memory (RSS of this process and its children, since milvus-lite runs as a child), disk,
build rate, recall@10 against exact search, and p50/p99 of one-query searches; then a table
extrapolated to 10M and 100M frames (assumptions printed with it).

Run from the repo root: `.venv/bin/python -m bench.scale --frames 1000000 --engines hnswlib milvus`
(hours on 2 cores at 1280 dims); `--frames 20000` for a quick look. Figures: docs/scale.md.
"""

from __future__ import annotations

import argparse
import gc
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from index.store.backend import HnswBackend, VectorBackend
from index.store.frame_store import FrameStore
from index.types import FrameRecord, SourceRecord
from training.metrics import exact_top_k

SOURCE_FRAMES = 1000  # frames per add(): one episode-sized source


def real_origins(count: int) -> np.ndarray:
    """Embeddings of generated anime frames by the default serving embedder."""
    from model.registry import load_embedder
    from synthetic import make_titles, render_frame

    embedder = load_embedder("efficientnet-lite0", Path.home() / ".cache" / "shazam-anime")
    styles = make_titles(8, seed=2024)
    frames = [
        render_frame(styles[i % len(styles)], 1, 0.7 * (i // len(styles)), (640, 360))
        for i in range(count)
    ]
    return embedder.embed(frames)


def noisy(origins: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    base = origins[rng.integers(0, len(origins), count)]
    sigma = rng.uniform(0.03, 0.08, (count, 1)).astype(np.float32)
    rows = base + rng.standard_normal(base.shape).astype(np.float32) * sigma
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def rss_bytes() -> int:
    process = psutil.Process()
    return process.memory_info().rss + sum(
        child.memory_info().rss for child in process.children(recursive=True)
    )


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def engine(name: str, workdir: Path) -> VectorBackend:
    if name == "hnswlib":
        return HnswBackend(m=16, ef_construction=200, ef=128, num_threads=None)
    from index.store.milvus import MilvusBackend

    return MilvusBackend(
        str(workdir / "milvus" / "milvus.db"),
        index_params={"M": 16, "efConstruction": 200},
        search_params={"ef": 128},
    )


def run(name: str, base: np.ndarray, queries: np.ndarray, k: int, workdir: Path) -> dict:
    gc.collect()
    rss_before = rss_bytes()
    store_dir = workdir / name
    thumbnail = b"\xff\xd8\xff\xd9"  # an empty JPEG: previews are not what this measures
    store = FrameStore.open(
        store_dir, dim=base.shape[1], model_name="bench", backend=engine(name, workdir)
    )
    started = time.perf_counter()
    for number, start in enumerate(range(0, len(base), SOURCE_FRAMES)):
        stop = min(len(base), start + SOURCE_FRAMES)
        frames = [FrameRecord(float(i - start), f"f{i}", thumbnail) for i in range(start, stop)]
        source = SourceRecord(f"Title {number % 50}", "video", f"s{number}.mkv", f"s{number}")
        store.add(source, frames, base[start:stop])
    store.save()
    build_s = time.perf_counter() - started
    gc.collect()
    rss_after = rss_bytes()
    # Frame ids are given in add order from 1, so row i is frame i + 1.
    truth = exact_top_k(base, queries, k) + 1
    latencies = []
    found = []
    for row in queries:
        started = time.perf_counter()
        hits = store.search(row[None, :], k)[0]
        latencies.append(time.perf_counter() - started)
        found.append([hit.frame_id for hit in hits])
    recall = sum(len(set(f) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    store.close()
    disk = dir_bytes(store_dir) + (dir_bytes(workdir / "milvus") if name == "milvus" else 0)
    n = len(base)
    return {
        "engine": name,
        "frames": n,
        "build_frames_per_s": n / build_s,
        "ram_bytes_per_frame": max(0, rss_after - rss_before) / n,
        "disk_bytes_per_frame": disk / n,
        "recall_at_k": recall / truth.size,
        "p50_ms": 1000 * float(np.percentile(latencies, 50)),
        "p99_ms": 1000 * float(np.percentile(latencies, 99)),
    }


def report(results: list[dict], k: int) -> None:
    print(
        f"\n{'engine':<8} {'frames':>9} {'build/s':>8} {'RAM B/fr':>9} {'disk B/fr':>10} "
        f"{'recall@' + str(k):>9} {'p50 ms':>7} {'p99 ms':>7}"
    )
    for r in results:
        print(
            f"{r['engine']:<8} {r['frames']:>9} {r['build_frames_per_s']:>8.0f} "
            f"{r['ram_bytes_per_frame']:>9.0f} {r['disk_bytes_per_frame']:>10.0f} "
            f"{r['recall_at_k']:>9.4f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f}"
        )
    print(
        "\nExtrapolated (assumes RAM and disk grow linearly per frame, search time with "
        "log(frames) as HNSW's does, build rate constant; one machine, no sharding):"
    )
    print(
        f"{'engine':<8} {'frames':>12} {'RAM GiB':>9} {'disk GiB':>9} {'p50 ms':>7} {'build h':>8}"
    )
    for r in results:
        for target in (10_000_000, 100_000_000):
            scale = math.log(target) / math.log(max(r["frames"], 2))
            print(
                f"{r['engine']:<8} {target:>12,} {r['ram_bytes_per_frame'] * target / 2**30:>9.1f} "
                f"{r['disk_bytes_per_frame'] * target / 2**30:>9.1f} {r['p50_ms'] * scale:>7.2f} "
                f"{target / r['build_frames_per_s'] / 3600:>8.1f}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument(
        "--engines", nargs="+", choices=["hnswlib", "milvus"], default=["hnswlib", "milvus"]
    )
    parser.add_argument("--origins", type=int, default=400, help="real embeddings to derive from")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    origins = real_origins(args.origins)
    base = noisy(origins, args.frames, rng)
    queries = noisy(origins, args.queries, rng)
    workdir = Path(tempfile.mkdtemp(prefix="shazam-scale-"))
    try:
        results = [run(name, base, queries, args.k, workdir) for name in args.engines]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(results, args.k)
    return 0


if __name__ == "__main__":
    sys.exit(main())
