"""Identify over HTTP vs the bare embedder, on a large catalog: p50/p95 latency and throughput.

The catalog holds a few real generated titles (videos ingested the normal way) plus filler frames
whose vectors are noisy copies of real frame vectors (cosine about 0.35-0.7 to their origin), so the
HNSW graph is dense around real queries without embedding 100k rendered frames. The server is
`app.server.run` in a subprocess; queries are 1280x720 JPEG screenshots of the real titles.
Identification is adaptive (one view first, the others only when unsure), so besides the bare
one-image embed and the embed of every query view, the embed of the views a query actually used
(in the passes it used) is timed: that is the floor identify cannot go below.

Run from the repo root: `.venv/bin/python -m bench.api` (100k frames), or add `--frames 20000`
for a quick run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import httpx  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from app.config import Settings  # noqa: E402
from app.services import build_services, open_store  # noqa: E402
from index.query.screenshot import query_views  # noqa: E402
from index.types import FrameRecord, SourceRecord  # noqa: E402
from model.base import Embedder  # noqa: E402
from model.fit import fit_batch  # noqa: E402
from model.registry import load_embedder  # noqa: E402
from synthetic import make_titles, render_frame, write_episode  # noqa: E402

REAL_TITLES = 4
REAL_SECONDS = 20.0
FILLER_SOURCE = 5000  # frames per filler add(), one big "episode"
SCREEN = (1280, 720)
# Between timed calls: TensorFlow's worker threads spin a while after a call, and would otherwise
# slow whichever process (bench or server) runs next.
PAUSE_S = 0.15


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def build_catalog(settings: Settings, embedder: Embedder, frames: int) -> dict[str, object]:
    """Real titles ingested from videos, then filler up to `frames`; reused when already built."""
    services = build_services(settings, embedder, open_store(settings, embedder))
    store = services.store
    started = time.perf_counter()
    try:
        styles = make_titles(REAL_TITLES, seed=2024)
        if store.stats().titles == 0:
            with tempfile.TemporaryDirectory() as scratch:
                for style in styles:
                    video = Path(scratch) / f"{style.name} - 01.mp4"
                    write_episode(style, 1, video, seconds=REAL_SECONDS, fps=12, size=(640, 360))
                    services.ingestor.ingest(style.name, [video])
        real_frames = sum(getattr(store.find_title(s.name), "frames", 0) for s in styles)
        missing = frames - store.stats().frames
        if missing > 0:
            origins = embedder.embed(
                [render_frame(s, 1, t, (640, 360)) for s in styles for t in np.arange(0, 20, 0.7)]
            )
            rng = np.random.default_rng(0)
            thumbnail = _jpeg(Image.new("RGB", (64, 36), (90, 90, 90)), 50)
            done = 0
            while done < missing:
                count = min(FILLER_SOURCE, missing - done)
                base = origins[rng.integers(0, len(origins), count)]
                sigma = rng.uniform(0.03, 0.08, (count, 1)).astype(np.float32)
                noisy = base + rng.standard_normal(base.shape).astype(np.float32) * sigma
                noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
                number = store.stats().titles
                records = [
                    FrameRecord(i * 0.5, f"filler-{number}-{i}", thumbnail) for i in range(count)
                ]
                source = SourceRecord(
                    f"Filler {number:04d}", "video", f"filler-{number}", f"filler-{number}", "1"
                )
                store.add(source, records, noisy)
                done += count
                print(f"  catalog {store.stats().frames} frames", flush=True)
        stats = store.stats()
        return {
            "frames": stats.frames,
            "real_frames": real_frames,
            "titles": stats.titles,
            "build_s": round(time.perf_counter() - started, 1),
            "real_titles": [style.name for style in styles],
        }
    finally:
        services.close()


def passes_used(
    settings: Settings, embedder: Embedder, images: list[Image.Image]
) -> list[list[list[Image.Image]]]:
    """Per query, the view batches identify embeds (one pass, or two), from a local identifier."""
    services = build_services(settings, embedder, open_store(settings, embedder))
    try:
        passes = []
        for image in images:
            views = query_views(image)
            searched = services.identifier.identify(image).views_searched
            passes.append([views[:1], views[1:]] if searched > 1 else [views[:1]])
        return passes
    finally:
        services.close()


def start_server(settings: Settings) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(
        os.environ,
        SHAZAM_DATA_DIR=str(settings.data_dir),
        SHAZAM_CACHE_DIR=str(settings.resolved_cache_dir),
        SHAZAM_MODEL=settings.model,
        SHAZAM_HOST="127.0.0.1",
        SHAZAM_PORT=str(port),
        SHAZAM_SEED_DEMO="false",
        SHAZAM_API_KEY="bench-only",
        SHAZAM_RATE_LIMIT="",  # every bench client is 127.0.0.1: measure capacity, not limits
    )
    code = "from app.config import Settings; from app.server import run; run(Settings())"
    root = Path(__file__).resolve().parents[1]
    server = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise RuntimeError("server did not come up")


def wait_for_title_head(url: str, timeout: float = 600) -> float:
    """Seconds until the server's title head is fitted to the catalog (`/health`).

    The head is refitted on a background thread after start; on a 100k catalog that takes
    seconds of both cores, which would land on the first minute of latency samples. The target
    is about a server in steady state, so timing starts once the fit is done.
    """
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if httpx.get(f"{url}/health", timeout=10).json()["title_head"]["current"]:
            break
        time.sleep(0.2)
    return round(time.monotonic() - started, 1)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def throughput(url: str, queries: list[bytes], clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client(worker: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            count = worker
            while True:  # at least one request each, however short `seconds` is
                data = queries[count % len(queries)]
                started = time.perf_counter()
                answer = http.post("/identify", files={"image": ("q.jpg", data, "image/jpeg")})
                answer.raise_for_status()
                with lock:
                    latencies.append(time.perf_counter() - started)
                count += 1
                if time.monotonic() >= stop:
                    break

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": len(latencies),
        "per_s": round(len(latencies) / elapsed, 2),
        "p50_ms": round(percentile(latencies, 50) * 1e3, 1),
        "p95_ms": round(percentile(latencies, 95) * 1e3, 1),
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Run the benchmark; the results (also printed, and written with --out) are returned."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "shazam-bench-api"
    )
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--model", default="efficientnet-lite0")
    parser.add_argument("--queries", type=int, default=60, help="sequential latency samples")
    parser.add_argument("--seconds", type=float, default=20.0, help="per throughput level")
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args(argv)

    settings = Settings(
        data_dir=args.data_dir / f"{args.model}-{args.frames}",
        model=args.model,
        cache_dir=args.cache_dir,
        seed_demo=False,
    )
    embedder = load_embedder(settings.model, settings.resolved_cache_dir)
    print(f"building/opening catalog in {settings.data_dir}", flush=True)
    catalog = build_catalog(settings, embedder, args.frames)
    print(f"catalog: {catalog}", flush=True)

    styles = make_titles(REAL_TITLES, seed=2024)
    screenshots = [
        render_frame(style, 1, t, SCREEN) for style in styles for t in (2.3, 7.9, 13.1, 18.4)
    ]
    queries = [_jpeg(image) for image in screenshots]
    decoded = [Image.open(io.BytesIO(data)).convert("RGB") for data in queries]
    truth = [style.name for style in styles for _ in range(4)]
    passes = passes_used(settings, embedder, decoded)

    server, url = start_server(settings)
    results: dict[str, object] = {"catalog": catalog, "cpus": os.cpu_count()}
    try:
        results["title_head_fit_wait_s"] = wait_for_title_head(url)
        print(f"title head fitted after {results['title_head_fit_wait_s']} s", flush=True)
        http = httpx.Client(base_url=url, timeout=120)
        for data in queries[:4]:  # warm-up: first calls trace TF graphs and fault pages in
            http.post("/identify", files={"image": ("q.jpg", data, "image/jpeg")})
        embedder.embed([decoded[0]])
        embedder.embed(query_views(decoded[0]))

        prepared = fit_batch(decoded[:1], embedder.input_size, embedder.fit)
        embedder.embed_array(prepared)
        identify_s, forward_s, bare_s, views_s, used_s, correct = [], [], [], [], [], 0
        for i in range(args.queries):  # interleaved, so load drift hits all three alike
            k = i % len(queries)
            time.sleep(PAUSE_S)
            started = time.perf_counter()
            answer = http.post("/identify", files={"image": ("q.jpg", queries[k], "image/jpeg")})
            identify_s.append(time.perf_counter() - started)
            match = answer.json()["match"]
            correct += bool(match and match["title"] == truth[k])
            time.sleep(PAUSE_S)
            started = time.perf_counter()
            embedder.embed_array(prepared)  # the bare forward pass at batch 1: the target's unit
            forward_s.append(time.perf_counter() - started)
            time.sleep(PAUSE_S)
            started = time.perf_counter()
            embedder.embed([decoded[k]])
            bare_s.append(time.perf_counter() - started)
            views = query_views(decoded[k])
            time.sleep(PAUSE_S)
            started = time.perf_counter()
            embedder.embed(views)
            views_s.append(time.perf_counter() - started)
            time.sleep(PAUSE_S)
            started = time.perf_counter()
            for batch in passes[k]:
                embedder.embed(batch)
            used_s.append(time.perf_counter() - started)
        http.close()
        p50 = statistics.median(identify_s)
        used = [len(passes[i % len(queries)]) for i in range(args.queries)]
        results["latency"] = {
            "identify_http_p50_ms": round(p50 * 1e3, 1),
            "identify_http_p95_ms": round(percentile(identify_s, 95) * 1e3, 1),
            "bare_forward_batch_1_p50_ms": round(statistics.median(forward_s) * 1e3, 1),
            "ratio_p50_to_bare_forward": round(p50 / statistics.median(forward_s), 2),
            "bare_embed_1_image_p50_ms": round(statistics.median(bare_s) * 1e3, 1),
            "embed_of_query_views_p50_ms": round(statistics.median(views_s) * 1e3, 1),
            "ratio_p50_to_bare_embed": round(p50 / statistics.median(bare_s), 2),
            "embed_of_views_used_p50_ms": round(statistics.median(used_s) * 1e3, 1),
            "ratio_p50_to_embed_of_query_views": round(p50 / statistics.median(views_s), 2),
            "ratio_p50_to_embed_of_views_used": round(p50 / statistics.median(used_s), 2),
            "views_per_query": len(query_views(decoded[0])),
            "second_pass_share": round(sum(n > 1 for n in used) / len(used), 3),
            "correct": f"{correct}/{args.queries}",
            "load_average_1m": round(os.getloadavg()[0], 2),  # the machine's, others included
        }
        print(json.dumps(results["latency"], indent=2), flush=True)
        results["throughput"] = [throughput(url, queries, n, args.seconds) for n in (1, 4)]
        for level in results["throughput"]:
            print(level, flush=True)
    finally:
        server.terminate()
        server.wait(60)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
