"""Ingestion wall time of a video end to end vs its two floors, side by side in one run.

The floors are the bare read (PyAV, the same shot-aware sampling and RGB conversion as
ingestion, nothing else) and the bare batched embedding of the frames it keeps. Ingestion
overlaps the two (the reader runs ahead on its own thread), so its wall time is judged against
the larger floor: 1.0 means thumbnails, hashing, the store and the hand-over between stages cost
nothing. It also prints what the shot detector costs per decoded frame beside the decoding
itself, timed frame by frame in one decode of the video, and the CPU time the mapper (pixel
hash, preview) takes per kept frame on the reader's thread.

Run from the repo root:

    .venv/bin/python -m bench.ingest --seconds 60 --batch-size 16
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import av  # noqa: E402
from av.video.reformatter import VideoReformatter  # noqa: E402

from index.ingest.ingestor import Ingestor  # noqa: E402
from index.ingest.mapper import make_record  # noqa: E402
from index.ingest.readers import (  # noqa: E402
    SamplingParams,
    grey_thumbnail,
    read_video,
    skip_unsampled,
    stretch_finder,
)
from index.store.frame_store import FrameStore  # noqa: E402
from model.registry import DEFAULT_EMBEDDER, load_embedder  # noqa: E402
from synthetic.titles import make_title  # noqa: E402
from synthetic.video import write_episode  # noqa: E402


def detector_cost(video: Path, params: SamplingParams) -> tuple[int, float, float]:
    """Frames decoded, and seconds per decoded frame of decoding and of the shot detector."""
    decode = detect = 0.0
    count = 0
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        skip_unsampled(stream, params.fps)
        finder = stretch_finder(params)
        scaler = VideoReformatter()
        frames = container.decode(stream)
        while True:
            start = time.perf_counter()
            frame = next(frames, None)
            decode += time.perf_counter() - start
            if frame is None:
                break
            count += 1
            start = time.perf_counter()
            finder.push(frame, float(frame.time or 0.0), grey_thumbnail(frame, scaler))
            detect += time.perf_counter() - start
    return count, decode / count, detect / count


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Print and return the frames embedded (bare and ingested) and the seconds of each run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the test video")
    parser.add_argument("--fps", type=float, default=2.0, help="most frames kept per second")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "shazam-anime")
    parser.add_argument("--threads", type=int, default=0, help="LiteRT threads; 0: one per core")
    args = parser.parse_args(argv)

    embedder = load_embedder(DEFAULT_EMBEDDER, args.cache_dir, threads=args.threads)
    size = (args.width, args.width * 9 // 16 // 2 * 2)
    with tempfile.TemporaryDirectory() as scratch:
        video = Path(scratch) / "episode.mp4"
        write_episode(make_title(0, 7), 1, video, seconds=args.seconds, fps=24, size=size)
        decoded, decode_each, detect_each = detector_cost(video, SamplingParams(fps=args.fps))
        start = time.perf_counter()
        sampled = list(read_video(video, SamplingParams(fps=args.fps)))
        decode = time.perf_counter() - start
        frames = [frame.image for frame in sampled]
        start = time.thread_time()
        for frame in sampled:
            make_record(frame)
        map_each = (time.thread_time() - start) / len(sampled)
        embedder.embed(frames[: args.batch_size])  # first-call allocations are not throughput

        start = time.perf_counter()
        for i in range(0, len(frames), args.batch_size):
            embedder.embed(frames[i : i + args.batch_size])
        embed = time.perf_counter() - start

        store_dir = Path(scratch) / "store"
        with FrameStore.open(store_dir, dim=embedder.dim, model_name=embedder.name) as store:
            ingestor = Ingestor(embedder, store, batch_size=args.batch_size, fps=args.fps)
            start = time.perf_counter()
            report = ingestor.ingest("Bench", [video])
            elapsed = time.perf_counter() - start
    floor = max(decode, embed)
    stages = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in report.timings.items())
    print(f"video: {args.seconds:.0f} s at 24 fps, {size[0]}x{size[1]}, at most {args.fps} kept/s")
    print(f"frames embedded: {report.frames_added} (bare run: {len(frames)})")
    print(
        f"per decoded frame ({decoded}): decode {decode_each * 1e3:.2f} ms, shot detector "
        f"{detect_each * 1e3:.2f} ms ({detect_each / decode_each:.0%} of decoding)"
    )
    print(f"map (hash, preview): {map_each * 1e3:.2f} ms CPU per kept frame")
    print(f"bare read:       {decode:.2f} s")
    rate = len(frames) / embed
    print(f"bare embedding:  {embed:.2f} s ({rate:.1f} frames/s, batch {args.batch_size})")
    print(f"ingest end2end:  {elapsed:.2f} s  ratio to the larger floor {elapsed / floor:.2f}")
    print(f"stages (overlapping): {stages}")
    return {
        "frames_bare": len(frames),
        "frames_ingested": report.frames_added,
        "decode_s": decode,
        "embed_s": embed,
        "ingest_s": elapsed,
        "decode_ms_per_frame": decode_each * 1e3,
        "detector_ms_per_frame": detect_each * 1e3,
        "map_ms_per_kept_frame": map_each * 1e3,
    }


if __name__ == "__main__":
    main()
