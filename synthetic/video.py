"""Writes rendered episodes as real MP4 files with exact per-frame ground truth, and broken ones."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from index.clips import clip_codec
from synthetic.render import render_frame
from synthetic.titles import TitleStyle, make_title

CORRUPT_KINDS = ("truncated", "cut", "garbage")


@dataclass(frozen=True, slots=True)
class FrameTruth:
    """What a frame really is: title name, episode number and presentation time in seconds."""

    title: str
    episode: int
    timestamp: float


def frame_truth(style: TitleStyle, episode: int, t: float) -> FrameTruth:
    """The ground truth of the frame `render_frame(style, episode, t)` draws."""
    return FrameTruth(style.name, episode, float(t))


def write_frames(
    frames: Iterable[Image.Image],
    target: str,
    fps: int,
    size: tuple[int, int],
    faststart: bool = False,
) -> None:
    """Encode `frames` (RGB, `size`) at `fps` into an MP4 at `target`, frame i at i / fps."""
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(target, "w", format="mp4", options=options) as container:
        codec = clip_codec()  # H.264 where PyAV has it, as real sources and clips use
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        if codec == "libx264":
            stream.options = {"crf": "20", "preset": "veryfast"}
        else:
            stream.bit_rate = 2_000_000
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.asarray(image), format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def write_episode(
    style: TitleStyle,
    episode: int,
    path: str | Path,
    seconds: float = 20.0,
    fps: int = 12,
    size: tuple[int, int] = (640, 360),
) -> list[FrameTruth]:
    """Renders `seconds` of an episode at `fps` into an MP4; returns the truth of every frame."""
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"seconds must be > 0, got {seconds}")
    if not (isinstance(fps, int) and 1 <= fps <= 120):
        raise ValueError(f"fps must be an integer in 1..120, got {fps!r}")
    if size[0] % 2 or size[1] % 2:
        raise ValueError(f"video size must be even on both sides (yuv420p), got {size}")
    count = max(1, round(seconds * fps))
    times = [i / fps for i in range(count)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_frames((render_frame(style, episode, t, size) for t in times), str(path), fps, size)
    return [frame_truth(style, episode, t) for t in times]


def write_held_opening(
    style: TitleStyle,
    path: str | Path,
    held_s: float,
    seconds: float,
    fps: int = 12,
    size: tuple[int, int] = (640, 360),
    episode: int = 1,
) -> tuple[float, float]:
    """An episode whose first `held_s` seconds show one frame held still (a static shot, which
    sampling de-duplicates to one kept frame), then move on; returns the held shot's span."""
    count = max(1, round(seconds * fps))
    held = min(count, round(held_s * fps))
    still = render_frame(style, episode, 0.0, size)
    frames = (
        still if i < held else render_frame(style, episode, i / fps, size) for i in range(count)
    )
    write_frames(frames, str(Path(path)), fps, size)
    return 0.0, held / fps


def write_corrupt_video(path: str | Path, kind: str = "truncated", seed: int = 0) -> Path:
    """A broken `.mp4`: "truncated" loses its index (fails at open), "cut" stops mid-stream (decodes
    a few frames, then ends early or errors), "garbage" is random bytes."""
    if kind not in CORRUPT_KINDS:
        raise ValueError(f"unknown corrupt video kind {kind!r}; expected one of {CORRUPT_KINDS}")
    rng = np.random.default_rng(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "garbage":
        path.write_bytes(rng.integers(0, 256, 64_000, dtype=np.uint8).tobytes())
        return path
    style = make_title(0, 0)  # fixed content: only the garbage depends on the seed
    frames = (render_frame(style, 1, i / 12, (160, 96)) for i in range(48))
    # faststart rewrites the file to move the index to the front, so it needs a real file.
    with tempfile.TemporaryDirectory() as scratch:
        whole = Path(scratch) / "whole.mp4"
        write_frames(frames, str(whole), 12, (160, 96), faststart=kind == "cut")
        data = whole.read_bytes()
    path.write_bytes(
        data[: len(data) * 7 // 10] + rng.integers(0, 256, 512, dtype=np.uint8).tobytes()
    )
    return path
