"""Short preview clips of a scene, cut from a kept source video with PyAV: muted H.264 MP4.

PyAV's wheels bundle libx264, which is what browsers play; where a build lacks it the clip is
MPEG-4 part 2 instead (most browsers will not play that inline, but it still downloads).
"""

from __future__ import annotations

import os
import tempfile
from fractions import Fraction
from pathlib import Path

import av

CLIP_SECONDS = 3.0
MAX_WIDTH = 640
_MAX_FPS = 30


def clip_codec() -> str:
    """H.264 when this PyAV build can encode it (its wheels bundle libx264), else MPEG-4 part 2."""
    try:
        av.codec.Codec("libx264", "w")
        return "libx264"
    except Exception:  # PyAV raises different classes across versions for a missing encoder
        return "mpeg4"


def clip_window(at: float, duration: float | None, seconds: float = CLIP_SECONDS) -> float:
    """Start of a `seconds` window that shows `at` a third of the way in, inside the video."""
    start = max(0.0, at - seconds / 3)
    if duration is not None and start + seconds > duration:
        start = max(0.0, duration - seconds)
    return start


def cut_clip(
    source: Path, target: Path, start: float, seconds: float = CLIP_SECONDS, width: int = MAX_WIDTH
) -> Path:
    """Write `seconds` of `source` from `start` to `target` (MP4, no audio, <= `width` wide).

    Written beside `target` and renamed into place, so a reader never sees half a file and two
    requests for one clip cannot corrupt it. Raises `av.FFmpegError` / `OSError` when the source
    cannot be read, `ValueError` when it holds no video or no frame in the window.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(suffix=".mp4", dir=target.parent)
    os.close(handle)
    try:
        _encode(source, Path(scratch), start, seconds, width)
        os.replace(scratch, target)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    return target


def _encode(source: Path, target: Path, start: float, seconds: float, width: int) -> None:
    with av.open(str(source)) as reader:
        if not reader.streams.video:
            raise ValueError(f"{source.name} has no video stream")
        stream = reader.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or Fraction(24)
        fps = min(_MAX_FPS, max(1, round(float(rate))))
        out_w = min(width, stream.codec_context.width) // 2 * 2
        out_h = max(2, round(stream.codec_context.height * out_w / stream.codec_context.width))
        out_h -= out_h % 2
        if stream.time_base is not None:
            reader.seek(int(start / stream.time_base), stream=stream, backward=True)
        origin = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        written = 0
        with av.open(str(target), "w", format="mp4", options={"movflags": "faststart"}) as out:
            codec = clip_codec()
            video = out.add_stream(codec, rate=fps)
            video.width, video.height, video.pix_fmt = out_w, out_h, "yuv420p"
            video.codec_context.time_base = Fraction(1, fps)
            if codec == "libx264":
                video.options = {"crf": "26", "preset": "veryfast"}
            for frame in reader.decode(stream):
                moment = (frame.time or 0.0) - origin
                if moment < start - 1e-6:
                    continue
                if moment >= start + seconds or written >= seconds * fps:
                    break
                if moment - start < (written - 0.5) / fps:  # faster than the output rate: drop
                    continue
                picture = frame.reformat(width=out_w, height=out_h, format="yuv420p")
                picture.pts, picture.time_base = written, Fraction(1, fps)
                out.mux(video.encode(picture))
                written += 1
            if written == 0:
                raise ValueError(f"{source.name} has no frame after {start:.2f} s")
            out.mux(video.encode(None))
