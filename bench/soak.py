"""Soak: concurrent identify clients plus a writer adding and deleting titles, for a bounded time,
against a real `serve` process on 127.0.0.1. Reports errors (any non-2xx or transport error),
wrong answers (a match naming another title), unknowns, identify latency percentiles and the
server's memory (RSS) after warm-up and at the end. Target: 0 errors, 0 wrong, flat memory.

Run from the repo root: `.venv/bin/python -m bench.soak` (60 s), `--seconds 300` for the
README's figures; the run never exceeds `--seconds` plus start-up and the final drain.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import psutil
from PIL import Image

from app.config import Settings
from bench.api import start_server
from synthetic import apply_perturbations, make_titles, render_frame

KEY = "bench-only"  # bench.api.start_server's key
SIZE = (640, 360)
STABLE_TITLES = 4
FRAMES_PER_TITLE = 8
# Screenshot-like changes that the catalog is known to survive (README's robustness figures).
QUERY_PERTURBATIONS = (("jpeg25",), ("subtitle",), ("letterbox",), ("downscale240",))
MAX_SECONDS = 600


@dataclass
class Tally:
    """Shared counters; every thread adds under the lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)
    identifies: int = 0
    wrong: int = 0
    unknown: int = 0
    errors: list[str] = field(default_factory=list)
    writes: int = 0

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _frames(style, episode: int) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        ("files", (f"{t}.jpg", _jpeg(render_frame(style, episode, float(t), SIZE)), "image/jpeg"))
        for t in range(FRAMES_PER_TITLE)
    ]


def _identify_client(url: str, queries: list[tuple[str, bytes]], stop: float, tally: Tally) -> None:
    rng = random.Random(threading.get_ident())
    with httpx.Client(base_url=url, timeout=60) as http:
        while time.monotonic() < stop:
            expected, data = rng.choice(queries)
            started = time.perf_counter()
            try:
                answer = http.post("/identify", files={"image": ("q.jpg", data, "image/jpeg")})
            except httpx.HTTPError as error:
                tally.error(f"identify: {type(error).__name__}")
                continue
            took = time.perf_counter() - started
            if answer.status_code != 200:
                tally.error(f"identify: {answer.status_code} {answer.text[:200]}")
                continue
            match = answer.json()["match"]
            with tally.lock:
                tally.identifies += 1
                tally.latencies.append(took)
                if match is None:
                    tally.unknown += 1
                elif match["title"] != expected:
                    tally.wrong += 1


def _writer(url: str, styles: list, stop: float, tally: Tally) -> None:
    """Adds a title from images, checks it is listed, deletes it; again until the end."""
    auth = {"Authorization": f"Bearer {KEY}"}
    round_number = 0
    with httpx.Client(base_url=url, timeout=120, headers=auth) as http:
        while time.monotonic() < stop:
            style = styles[round_number % len(styles)]
            name = f"Churn {round_number}"
            try:
                added = http.post("/titles", data={"name": name}, files=_frames(style, 1))
                if added.status_code != 201:
                    tally.error(f"add: {added.status_code} {added.text[:200]}")
                    continue
                title_id = added.json()["title_id"]
                if http.get(f"/titles/{title_id}").status_code != 200:
                    tally.error("added title not listed")
                removed = http.delete(f"/titles/{title_id}")
                if removed.status_code != 204:
                    tally.error(f"delete: {removed.status_code} {removed.text[:200]}")
            except httpx.HTTPError as error:
                tally.error(f"writer: {type(error).__name__}")
            with tally.lock:
                tally.writes += 1
            round_number += 1


def _watch_memory(pid: int, stop: float, samples: list[tuple[float, int]]) -> None:
    process = psutil.Process(pid)
    start = time.monotonic()
    while time.monotonic() < stop:
        samples.append((time.monotonic() - start, process.memory_info().rss))
        time.sleep(0.5)


def run(seconds: float, clients: int, cache_dir: Path | None) -> dict[str, object]:
    seconds = min(seconds, MAX_SECONDS)
    styles = make_titles(STABLE_TITLES + 3, seed=77)
    stable, churn = styles[:STABLE_TITLES], styles[STABLE_TITLES:]
    names = [f"Stable {i}" for i in range(STABLE_TITLES)]
    rng = random.Random(5)
    queries = [
        (
            names[i],
            _jpeg(
                apply_perturbations(render_frame(style, 1, t + 0.4, SIZE), list(perturbation), rng),
                quality=85,
            ),
        )
        for i, style in enumerate(stable)
        for t in range(0, FRAMES_PER_TITLE - 1, 2)
        for perturbation in QUERY_PERTURBATIONS
    ]
    with tempfile.TemporaryDirectory(prefix="soak-") as data_dir:
        settings = Settings(data_dir=Path(data_dir), cache_dir=cache_dir, seed_demo=False)
        server, url = start_server(settings)
        try:
            with httpx.Client(base_url=url, timeout=120) as http:
                for name, style in zip(names, stable, strict=True):
                    added = http.post(
                        "/titles",
                        data={"name": name},
                        files=_frames(style, 1),
                        headers={"Authorization": f"Bearer {KEY}"},
                    )
                    added.raise_for_status()
            tally = Tally()
            samples: list[tuple[float, int]] = []
            stop = time.monotonic() + seconds
            threads = [
                threading.Thread(target=_identify_client, args=(url, queries, stop, tally))
                for _ in range(clients)
            ]
            threads.append(threading.Thread(target=_writer, args=(url, churn, stop, tally)))
            threads.append(threading.Thread(target=_watch_memory, args=(server.pid, stop, samples)))
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            server.terminate()
            server.wait(60)
    return _report(seconds, clients, tally, samples)


def _report(
    seconds: float, clients: int, tally: Tally, samples: list[tuple[float, int]]
) -> dict[str, object]:
    latencies = np.asarray(tally.latencies or [0.0]) * 1e3

    def rss_mb_around(moment: float) -> float:
        near = [rss for at, rss in samples if abs(at - moment) <= max(2.0, seconds * 0.05)]
        return round(statistics.median(near or [samples[-1][1]]) / 2**20, 1)

    warm = seconds * 0.25  # after the first writes, queries and allocator growth
    return {
        "seconds": seconds,
        "identify_clients": clients,
        "identifies": tally.identifies,
        "identifies_per_s": round(tally.identifies / seconds, 2),
        "writes": tally.writes,
        "errors": len(tally.errors),
        "first_errors": tally.errors[:5],
        "wrong": tally.wrong,
        "unknown": tally.unknown,
        "p50_ms": round(float(np.percentile(latencies, 50)), 1),
        "p95_ms": round(float(np.percentile(latencies, 95)), 1),
        "p99_ms": round(float(np.percentile(latencies, 99)), 1),
        "rss_after_warmup_mb": rss_mb_around(warm),
        "rss_end_mb": rss_mb_around(seconds),
        "rss_growth_mb": round(rss_mb_around(seconds) - rss_mb_around(warm), 1),
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help=f"at most {MAX_SECONDS}")
    parser.add_argument("--clients", type=int, default=3, help="concurrent identify clients")
    parser.add_argument("--cache-dir", type=Path, help="model cache (default: the app's)")
    args = parser.parse_args(argv)
    result = run(args.seconds, args.clients, args.cache_dir)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
