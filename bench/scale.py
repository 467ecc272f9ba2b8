"""Library scale: a catalog of N frames built through the store's real add path, per vector engine.

Vectors are real Lite0 embeddings of generated anime frames plus noise (as `bench/api.py` fills
its catalog), in shots of near-identical frames, made 1,000 at a time from a seed per source so
a million frames never sit in one process: the exact search makes them again. Queries are
catalog frames seen again. The store is opened as the service opens it (`app.services` with the
default settings, the embedder's index projection included), so it measures whatever vector
format and index parameters the code has.
For each engine, side by side in one run: build rate (and CPU per 1,000 frames, steadier than
wall time on a shared machine), the share spent on index checkpoints, memory (anonymous RSS of the
building process at its peak, and what opening the built store adds to a fresh process, beside
the index's own size), disk per frame split by file, recall@10 against exact search, and p50/p99
of one-query searches; then a table extrapolated to 10M and 100M frames, assumptions printed.

Run from the repo root: `nice -n 10 .venv/bin/python -m bench.scale --frames 1000000` (hnswlib at
1M; milvus-lite at `--milvus-frames`: it needs about 34 KB of memory per frame); `--frames 20000`
for a quick look. Figures: docs/scale.md."""

from __future__ import annotations

import argparse
import gc
import math
import multiprocessing
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil

from app.config import Settings
from app.services import vector_backend
from index.store.frame_store import FrameStore
from index.store.projection import Projection
from index.types import FrameRecord, SourceRecord
from training.index_projection import reference_projection

SOURCE_FRAMES = 1000  # frames per add(): one episode-sized source
SEED = 0
TARGETS = (10_000_000, 100_000_000)
SHOT_FRAMES = 25  # frames sampled from one shot
FRAME_SIGMA = 0.005  # per-dimension noise between frames of a shot (cosine ~0.97)
WARM_UP = 10  # searches before the timed ones


@dataclass(frozen=True)
class Library:
    """What every frame is made from, and the index projection the service would give it."""

    origins: np.ndarray
    projection: Projection | None


def real_library(count: int) -> Library:
    """Embeddings of generated anime frames by the default serving embedder, and the index
    projection the service gives a new catalog of that embedder's vectors."""
    from model.registry import load_embedder
    from synthetic import make_titles, render_frame

    settings = Settings()
    embedder = load_embedder(settings.model, settings.resolved_cache_dir)
    styles = make_titles(8, seed=2024)
    frames = [
        render_frame(styles[i % len(styles)], 1, 0.7 * (i // len(styles)), (640, 360))
        for i in range(count)
    ]
    projection = reference_projection(embedder, settings.resolved_cache_dir, settings.index_dims)
    return Library(embedder.embed(frames), projection)


def noisy(origins: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    base = origins[rng.integers(0, len(origins), count)]
    sigma = rng.uniform(0.03, 0.08, (count, 1)).astype(np.float32)
    rows = base + rng.standard_normal(base.shape).astype(np.float32) * sigma
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def sources(origins: np.ndarray, frames: int) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, vectors) per source; the same every time, so the catalog is never held.

    A source is shots of `SHOT_FRAMES` frames: each shot a noisy copy of a real embedding (as
    `bench/api.py` makes its filler), each frame its shot plus a little noise of its own, so a
    frame's nearest neighbours are the rest of its shot, as in a real episode.
    """
    for start in range(0, frames, SOURCE_FRAMES):
        count = min(frames, start + SOURCE_FRAMES) - start
        rng = np.random.default_rng([SEED, start])
        shots = noisy(origins, -(-count // SHOT_FRAMES), rng)
        yield start, jitter(np.repeat(shots, SHOT_FRAMES, axis=0)[:count], rng)


def jitter(vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same pictures seen again: another frame of the shot, or a screenshot of the frame."""
    rows = vectors + rng.standard_normal(vectors.shape).astype(np.float32) * FRAME_SIGMA
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def screenshots(origins: np.ndarray, frames: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, queries): `count` catalog frames picked at random, each seen again."""
    rng = np.random.default_rng(SEED + 1)
    rows = np.sort(rng.choice(frames, min(count, frames), replace=False))
    picked = np.empty((len(rows), origins.shape[1]), dtype=np.float32)
    for start, vectors in sources(origins, frames):
        inside = (rows >= start) & (rows < start + len(vectors))
        picked[inside] = vectors[rows[inside] - start]
    return rows, jitter(picked, rng)


def exact_neighbours(origins: np.ndarray, frames: int, queries: np.ndarray, k: int) -> np.ndarray:
    """Row numbers of each query's k nearest catalog vectors by cosine, over every source."""
    best_rows = np.full((len(queries), k), -1, dtype=np.int64)
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    for start, vectors in sources(origins, frames):
        scores = np.concatenate([best_scores, queries @ vectors.T], axis=1)
        new_rows = np.arange(start, start + len(vectors))
        rows = np.concatenate(
            [best_rows, np.broadcast_to(new_rows, (len(queries), len(new_rows)))], axis=1
        )
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        best_scores = np.take_along_axis(scores, top, axis=1)
        best_rows = np.take_along_axis(rows, top, axis=1)
    return best_rows


def rss_bytes() -> int:
    """Resident memory of this process and its children that is their own (anonymous): the
    pages of files they map are the OS's page cache, reclaimable, and are left out. The
    catalog's readers map it (docs/serving.md), so plain RSS would count the catalog's pages
    a scan touched as the process's memory."""
    processes = [psutil.Process()]
    processes += processes[0].children(recursive=True)
    return sum(info.rss - info.shared for info in (p.memory_info() for p in processes))


def files_bytes(path: Path) -> dict[str, int]:
    """Bytes per file under `path`; a sub-directory (milvus-lite's) counts as one entry."""
    sizes: dict[str, int] = {}
    for item in path.rglob("*"):
        if item.is_file():
            top = item.relative_to(path).parts[0]
            name = top if item.parent == path else f"{top}/"
            sizes[name] = sizes.get(name, 0) + item.stat().st_size
    return sizes


def timed(method: Callable[..., None], seconds: list[float]) -> Callable[..., None]:
    def wrapper(*args: object, **kwargs: object) -> None:
        started = time.perf_counter()
        try:
            method(*args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - started)

    return wrapper


def open_store(name: str, store_dir: Path, library: Library, saves: list[float]) -> FrameStore:
    """The store as the service opens it (`app.services.open_store`), checkpoints timed."""
    backend = vector_backend(Settings(data_dir=store_dir, vector_backend=name))
    backend.save = timed(backend.save, saves)  # type: ignore[method-assign]
    return FrameStore.open(
        store_dir,
        dim=library.origins.shape[1],
        model_name="bench",
        backend=backend,
        projection=library.projection,
    )


def add_sources(
    store: FrameStore, batches: Iterable[tuple[int, np.ndarray]], frames: int, name: str
) -> int:
    """Add every (first row, vectors) source; returns the peak RSS seen (checked after each)."""
    thumbnail = b"\xff\xd8\xff\xd9"  # an empty JPEG: previews are not what this measures
    peak = 0
    started = time.perf_counter()
    report_every = max(SOURCE_FRAMES, frames // 20 // SOURCE_FRAMES * SOURCE_FRAMES)
    for start, vectors in batches:
        records = [FrameRecord(float(i), f"f{start + i}", thumbnail) for i in range(len(vectors))]
        number = start // SOURCE_FRAMES
        source = SourceRecord(f"Title {number % 50}", "video", f"s{number}.mkv", f"s{number}")
        store.add(source, records, vectors)
        peak = max(peak, rss_bytes())
        done = start + len(vectors)
        if done % report_every == 0 and done < frames:
            elapsed = time.perf_counter() - started
            print(
                f"  {name}: {done:,} of {frames:,} frames in {elapsed:.0f} s "
                f"({done / elapsed:.0f}/s)",
                flush=True,
            )
    return peak


def run(name: str, library: Library, frames: int, queries: int, k: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"shazam-scale-{name}-"))
    try:
        return measure(name, library, frames, queries, k, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def measure(name: str, library: Library, frames: int, count: int, k: int, store_dir: Path) -> dict:
    # Building and serving each run in a fresh process, as they would in production: memory a
    # process freed but still holds (the build's garbage) must not count, nor be reused.
    built = in_fresh_process(build_store, name, store_dir, library, frames)
    disk = files_bytes(store_dir)
    rows, queries = screenshots(library.origins, frames, count)
    served = in_fresh_process(serve, name, store_dir, library, queries, k)
    # Frame ids are given in add order from 1, so row i is frame i + 1.
    truth = exact_neighbours(library.origins, frames, queries, k) + 1
    found = served["found"]
    recall = sum(len(set(f) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    own_first = sum(bool(f) and f[0] == row + 1 for f, row in zip(found, rows, strict=True))
    return {
        "engine": name,
        "frames": frames,
        "build_frames_per_s": frames / built["seconds"],
        "build_cpu_s_per_1k": 1000 * built["cpu_seconds"] / frames,
        "checkpoint_share": sum(built["saves"]) / built["seconds"],
        "checkpoints": len(built["saves"]),
        "peak_ram_bytes_per_frame": built["peak_ram_bytes"] / frames,
        "ram_bytes_per_frame": served["ram_bytes"] / frames,
        "index_bytes_per_frame": None
        if served["index_bytes"] is None
        else served["index_bytes"] / frames,
        "open_s": served["open_s"],
        "disk_bytes_per_frame": sum(disk.values()) / frames,
        "disk_files": {file: size / frames for file, size in sorted(disk.items())},
        "recall_at_k": recall / truth.size,
        "frame_at_1": own_first / len(rows),
        "p50_ms": 1000 * float(np.percentile(served["latencies"], 50)),
        "p99_ms": 1000 * float(np.percentile(served["latencies"], 99)),
    }


def in_fresh_process(function: Callable[..., dict], *args: object) -> dict:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def build_store(name: str, store_dir: Path, library: Library, frames: int) -> dict:
    """Add every source through `FrameStore.add`, then close (its last checkpoint included)."""
    gc.collect()
    rss_before = rss_bytes()
    saves: list[float] = []
    store = open_store(name, store_dir, library, saves)
    started, cpu_started = time.perf_counter(), time.process_time()
    peak = add_sources(store, sources(library.origins, frames), frames, name)
    store.close()
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu_started,
        "saves": saves,
        "peak_ram_bytes": max(0, peak - rss_before),
    }


def serve(name: str, store_dir: Path, library: Library, queries: np.ndarray, k: int) -> dict:
    """In a fresh process: open the store as a server does, then one-query searches."""
    gc.collect()
    rss_before = rss_bytes()
    started = time.perf_counter()
    store = open_store(name, store_dir, library, [])
    open_s = time.perf_counter() - started
    gc.collect()
    ram = max(0, rss_bytes() - rss_before)
    index_bytes = store.stats().extra.get("index_bytes") if name == "hnswlib" else None
    for row in queries[:WARM_UP]:  # a served index has been searched before
        store.search(row[None, :], k)
    latencies, found = [], []
    for row in queries:
        started = time.perf_counter()
        hits = store.search(row[None, :], k)[0]
        latencies.append(time.perf_counter() - started)
        found.append([hit.frame_id for hit in hits])
    store.close()
    return {
        "ram_bytes": ram,
        "index_bytes": index_bytes,
        "open_s": open_s,
        "latencies": latencies,
        "found": found,
    }


def report(results: list[dict], k: int) -> None:
    print(
        f"\n{'engine':<8} {'frames':>9} {'build/s':>8} {'RAM B/fr':>9} {'disk B/fr':>10} "
        f"{'recall@' + str(k):>9} {'frame@1':>8} {'p50 ms':>7} {'p99 ms':>7}"
    )
    for r in results:
        print(
            f"{r['engine']:<8} {r['frames']:>9} {r['build_frames_per_s']:>8.0f} "
            f"{r['ram_bytes_per_frame']:>9.0f} {r['disk_bytes_per_frame']:>10.0f} "
            f"{r['recall_at_k']:>9.4f} {r['frame_at_1']:>8.4f} {r['p50_ms']:>7.2f} "
            f"{r['p99_ms']:>7.2f}"
        )
    print(
        f"\nQueries: catalog frames picked at random, each seen again (a screenshot); recall@{k}"
        f" against\nexact search over the float32 vectors; frame@1: its own frame ranked first."
        "\nRAM: what opening the built store adds to a fresh process (and its children)."
    )
    for r in results:
        index = r["index_bytes_per_frame"]
        files = ", ".join(f"{file} {size:,.0f}" for file, size in r["disk_files"].items())
        print(
            f"{r['engine']}: build {r['build_cpu_s_per_1k']:.2f} CPU-s per 1k frames, "
            f"{100 * r['checkpoint_share']:.1f}% of it in {r['checkpoints']} index checkpoints; "
            f"peak RAM while building {r['peak_ram_bytes_per_frame']:,.0f} B/frame"
            + ("" if index is None else f"; index itself {index:,.0f} B/frame")
            + f"; open {r['open_s']:.1f} s; disk B/frame: {files}"
        )
    print(
        "\nExtrapolated, assuming: RAM and disk linear in frames (the graph and vectors are per "
        "frame);\nsearch and insert cost growing with log(frames), as HNSW's hops do (memory "
        "latency per hop\nalready paid at this size); recall not extrapolated; build h at this "
        "run's wall rate,\nCPU h from its CPU per frame (a dedicated machine of n cores: CPU h / "
        "n); machines of this one's\nmemory holding the RAM, index split evenly:"
    )
    total = psutil.virtual_memory().total
    print(
        f"{'engine':<8} {'frames':>12} {'RAM GiB':>9} {'disk GiB':>9} {'p50 ms':>7} {'build h':>8} "
        f"{'CPU h':>7} {'machines':>8}"
    )
    for r in results:
        for target in TARGETS:
            growth = math.log(target) / math.log(max(r["frames"], 2))
            ram = r["ram_bytes_per_frame"] * target
            print(
                f"{r['engine']:<8} {target:>12,} {ram / 2**30:>9.1f} "
                f"{r['disk_bytes_per_frame'] * target / 2**30:>9.1f} {r['p50_ms'] * growth:>7.2f} "
                f"{target * growth / r['build_frames_per_s'] / 3600:>8.1f} "
                f"{target * growth * r['build_cpu_s_per_1k'] / 1000 / 3600:>7.1f} "
                f"{math.ceil(ram / total):>8}"
            )
    print(f"(this machine: {total / 2**30:.0f} GiB, {psutil.cpu_count()} cores)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument(
        "--engines", nargs="+", choices=["hnswlib", "milvus"], default=["hnswlib", "milvus"]
    )
    parser.add_argument(
        "--milvus-frames",
        type=int,
        default=20_000,
        help="milvus-lite's catalog size (at most --frames): ~34 KB of memory per frame",
    )
    parser.add_argument("--origins", type=int, default=400, help="real embeddings to derive from")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args(argv)

    library = real_library(args.origins)
    sizes = {"hnswlib": args.frames, "milvus": min(args.frames, args.milvus_frames)}
    results = [run(name, library, sizes[name], args.queries, args.k) for name in args.engines]
    report(results, args.k)
    return 0


if __name__ == "__main__":
    sys.exit(main())
