"""Default embedder throughput: 1280x720 JPEG bytes end to end vs the bare model call, served
(LiteRT) and on Keras/TensorFlow side by side in one run.

Run from the repo root: `.venv/bin/python -m bench.embedder [--embedder NAME] [--repeats 5]`.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import skimage.data  # noqa: E402
from PIL import Image  # noqa: E402

from model.base import ArrayEmbedder  # noqa: E402
from model.fit import fit_batch  # noqa: E402
from model.registry import DEFAULT_EMBEDDER, load_embedder  # noqa: E402


def _jpegs(count: int) -> list[bytes]:
    """Distinct 1280x720 frames (package photos, shifted and flipped) as JPEG bytes."""
    photos = [skimage.data.chelsea(), skimage.data.coffee(), skimage.data.astronaut()]
    out = []
    for i in range(count):
        image = Image.fromarray(photos[i % len(photos)]).resize((1280 + i, 720))
        image = image.crop((i, 0, 1280 + i, 720))
        if i % 2:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


def _seconds_per_image(
    runs: dict[str, Callable[[], object]], images_per_call: int, repeats: int
) -> dict[str, float]:
    """Median seconds per image of each run; runs alternate so machine load hits all alike."""
    for run in runs.values():
        run()  # warm-up: tracing and first-call allocations are not throughput
    timings: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) / images_per_call for name, t in timings.items()}


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Print the table; return the worst served-vs-Keras cosine and the seconds per image of
    each run ("prep", "<runtime> total", "<runtime> bare") by batch size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", default=DEFAULT_EMBEDDER)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args(argv)

    cache_dir = args.cache_dir or Path(tempfile.mkdtemp(prefix="shazam-bench-"))
    start = time.perf_counter()
    served = load_embedder(args.embedder, cache_dir=cache_dir)
    first_load = time.perf_counter() - start
    start = time.perf_counter()
    load_embedder(args.embedder, cache_dir=cache_dir)
    cached_load = time.perf_counter() - start
    keras = load_embedder(args.embedder, cache_dir=cache_dir, runtime="keras")
    assert isinstance(served, ArrayEmbedder) and isinstance(keras, ArrayEmbedder)

    jpegs = _jpegs(32)
    size, fit = served.input_size, served.fit
    decoded = [Image.open(io.BytesIO(data)).convert("RGB") for data in jpegs]
    prepared = fit_batch(decoded, size, fit)
    cosine = (served.embed_array(prepared) * keras.embed_array(prepared)).sum(axis=1).min()

    def decode_fit(batch: list[bytes]) -> Callable[[], object]:
        return lambda: fit_batch([Image.open(io.BytesIO(d)) for d in batch], size, fit)

    print(f"{args.embedder}: input {size}px, fit={fit}, dim {served.dim}, {os.cpu_count()} CPUs")
    print(f"load: first {first_load:.2f} s (build + convert), cached {cached_load:.2f} s")
    print(f"served vs Keras vectors: worst cosine {cosine:.6f} over {len(prepared)} frames")
    print(
        f"{'runtime':>8} {'batch':>5} {'end-to-end ms/img':>18} {'decode+fit ms/img':>18} "
        f"{'bare model ms/img':>18} {'img/s':>7} {'overhead':>9}"
    )
    table = {}
    for batch in (1, 32):
        runs: dict[str, Callable[[], object]] = {"prep": decode_fit(jpegs[:batch])}
        for name, embedder in (("litert", served), ("keras", keras)):
            runs[f"{name} total"] = lambda e=embedder, b=batch: e.embed(
                [Image.open(io.BytesIO(data)) for data in jpegs[:b]]
            )
            runs[f"{name} bare"] = lambda e=embedder, b=batch: e.embed_array(prepared[:b])
        # Batch 1 calls are short: more of them for a stable median.
        spent = _seconds_per_image(runs, batch, args.repeats * (8 if batch == 1 else 1))
        table[batch] = spent
        for name in ("litert", "keras"):
            total, bare = spent[f"{name} total"], spent[f"{name} bare"]
            print(
                f"{name:>8} {batch:>5} {total * 1e3:>18.1f} {spent['prep'] * 1e3:>18.1f} "
                f"{bare * 1e3:>18.1f} {1 / bare:>7.1f} {total / bare:>8.2f}x"
            )
        speedup = spent["keras bare"] / spent["litert bare"]
        print(f"{'':>8} {batch:>5} bare model: LiteRT {speedup:.2f}x faster than Keras")
    return {"worst_cosine": float(cosine), "seconds_per_image": table}


if __name__ == "__main__":
    main()
