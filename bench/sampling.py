"""Which shot detector and level: frames kept against how often a frame's nearest kept frame
stands for its moment.

The videos of `bench.scenes` (generated episodes, the held shot, the Big Buck Bunny clip) are
decoded once, frame by frame as ingestion decodes them; every frame is embedded with Lite0 and
reduced to the detector's grey thumbnail (16x9, as ingestion does) and to a finer 32x18 one.
Each sampler picks kept frames and their stretches from the same frames: the old fixed 2 fps
grid with its near-duplicate drop (each kept frame standing until the next), and
`index.ingest.shots.StretchFinder` at several `change` levels on either thumbnail (and, on the
same stretches, keeping each one's first frame instead of the finder's choice). A frame
passes "@0" when its nearest kept frame (cosine, over every video) has a stretch holding its
time +- 0.25 s, and "@drop" when the span merged over neighbouring kept frames within `--drop`
of that one (as answers merge) holds it and lasts at most 6 s. Figures in docs/scenes.md:

    .venv/bin/python -m bench.sampling --changes 2,3,4,6
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import av  # noqa: E402
import numpy as np  # noqa: E402
from av.video.reformatter import VideoReformatter  # noqa: E402

from bench.scenes import MAX_SPAN_S, TOLERANCE_S, bench_videos  # noqa: E402
from index.ingest.readers import (  # noqa: E402
    SamplingParams,
    grey_thumbnail,
    skip_unsampled,
)
from index.ingest.shots import StretchFinder  # noqa: E402
from model.base import Embedder  # noqa: E402
from model.registry import DEFAULT_EMBEDDER, load_embedder  # noqa: E402

# The sampling before shot-aware sampling, kept here as the baseline it is measured against.
FIXED_FPS, FIXED_DROP, FIXED_MAX_STATIC_S = 2.0, 0.6, 3.0
BATCH = 32

Kept = list[tuple[int, float, float]]  # (frame index, stretch start, stretch end)


@dataclass
class Decoded:
    times: list[float]
    thumbs: dict[str, list[np.ndarray]]  # by signature name
    vectors: np.ndarray
    end: float


def decode(path: Path, seconds: float, embedder: Embedder) -> Decoded:
    """Every frame ingestion would decode: its time, thumbnails and embedding."""
    times: list[float] = []
    thumbs: dict[str, list[np.ndarray]] = {"grey 16x9": [], "grey 32x18": []}
    vectors, images = [], []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        skip_unsampled(stream, SamplingParams().fps)
        scaler = VideoReformatter()
        for frame in container.decode(stream):
            times.append(float(frame.time or 0.0))
            thumbs["grey 16x9"].append(grey_thumbnail(frame, scaler))
            fine = frame.to_ndarray(width=32, height=18, format="gray", interpolation="AREA")
            thumbs["grey 32x18"].append(fine.astype(np.float32))
            images.append(frame.to_image(width=640, height=360))
            if len(images) == BATCH:
                vectors.append(embedder.embed(images))
                images = []
    if images:
        vectors.append(embedder.embed(images))
    return Decoded(times, thumbs, np.concatenate(vectors), max(seconds, times[-1]))


def fixed(video: Decoded) -> Kept:
    """The old sampler: a 2 fps grid, a frame dropped while it repeats the last kept one."""
    kept: list[int] = []
    next_grid = 0.0
    for i, time in enumerate(video.times):
        if time + 1e-6 < next_grid:
            continue
        next_grid = (np.floor(time * FIXED_FPS + 1e-6) + 1) / FIXED_FPS
        if kept and time - video.times[kept[-1]] < FIXED_MAX_STATIC_S:
            thumbs = video.thumbs["grey 16x9"]
            if float(np.abs(thumbs[i] - thumbs[kept[-1]]).mean()) < FIXED_DROP:
                continue
        kept.append(i)
    ends = [video.times[i] for i in kept[1:]] + [video.end]
    return [(i, video.times[i], end) for i, end in zip(kept, ends, strict=True)]


def shots(signature: str, change: float, at_start: bool = False) -> Callable[[Decoded], Kept]:
    """`StretchFinder` at `change`; `at_start` keeps each stretch's first frame instead of the
    finder's choice (the old "until the next kept frame" rule on the same stretches)."""
    params = SamplingParams(change=change)

    def sample(video: Decoded) -> Kept:
        finder: StretchFinder[int] = StretchFinder(
            params.change, params.cut, params.still, 1.0 / params.fps
        )
        pairs = zip(video.times, video.thumbs[signature], strict=True)
        found = [finder.push(i, time, thumb) for i, (time, thumb) in enumerate(pairs)]
        found.append(finder.finish(video.end))
        stretches = [s for s in found if s is not None]
        if at_start:
            return [(video.times.index(s.start), s.start, s.end) for s in stretches]
        return [(s.frame, s.start, s.end) for s in stretches]

    return sample


def score(videos: list[Decoded], kept: list[Kept], drop: float) -> tuple[float, float]:
    """Shares of frames passing @0 and @drop."""
    owners = [(v, k) for v, chosen in enumerate(kept) for k in range(len(chosen))]
    bank = np.stack([videos[v].vectors[kept[v][k][0]] for v, k in owners])
    exact = merged = total = 0
    for v, video in enumerate(videos):
        first = next(n for n, (owner, _) in enumerate(owners) if owner == v)
        for i, time in enumerate(video.times):
            sims = bank @ video.vectors[i]
            best = int(sims.argmax())
            total += 1
            if owners[best][0] != v:
                continue
            _, start, end = kept[v][owners[best][1]]
            exact += start - TOLERANCE_S <= time <= end + TOLERANCE_S
            low = high = best
            while low > first and sims[low - 1] >= sims[best] - drop:
                low -= 1
            while high + 1 < first + len(kept[v]) and sims[high + 1] >= sims[best] - drop:
                high += 1
            start, end = kept[v][owners[low][1]][1], kept[v][owners[high][1]][2]
            merged += start - TOLERANCE_S <= time <= end + TOLERANCE_S and end - start <= MAX_SPAN_S
    return exact / total, merged / total


def main(argv: list[str] | None = None) -> dict[str, tuple[int, float, float]]:
    """Print and return, per sampler: frames kept, pass @0, pass @drop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", default="2,3,4,6", help="StretchFinder change levels")
    parser.add_argument("--drop", type=float, default=0.02, help="as IdentifyParams.scene_drop")
    parser.add_argument("--titles", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--static", type=float, default=3.0, help="length of the held shot")
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache/shazam-anime")
    args = parser.parse_args(argv)
    embedder = load_embedder(DEFAULT_EMBEDDER, args.cache_dir)
    with tempfile.TemporaryDirectory() as scratch:
        sources, _ = bench_videos(Path(scratch), args.titles, args.seconds, args.static)
        videos = [decode(path, seconds, embedder) for path, seconds in sources.values()]
    samplers = {"fixed 2 fps + drop (before)": fixed}
    for signature in ("grey 16x9", "grey 32x18"):
        for change in (float(x) for x in args.changes.split(",")):
            samplers[f"{signature}, change {change:g}"] = shots(signature, change)
            if signature == "grey 16x9":
                name = f"{signature}, change {change:g}, first frame"
                samplers[name] = shots(signature, change, at_start=True)
    minutes = sum(video.end for video in videos) / 60
    print(f"{len(videos)} videos, {sum(len(v.times) for v in videos)} decoded frames")
    results = {}
    for name, sample in samplers.items():
        kept = [sample(video) for video in videos]
        count = sum(len(chosen) for chosen in kept)
        exact, merged = score(videos, kept, args.drop)
        results[name] = (count, exact, merged)
        print(
            f"{name:44s} kept {count:4d} ({count / minutes:6.1f}/min)  "
            f"@0 {exact:.3f}  @{args.drop:g} {merged:.3f}"
        )
    return results


if __name__ == "__main__":
    main()
