"""Media readers: sampled video frames with presentation timestamps, images, a source's frames."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
import numpy as np
from PIL import Image, ImageOps

from model.fit import to_rgb

if TYPE_CHECKING:
    from index.ingest.sources import SourcePlan

VIDEO_EXTENSIONS = frozenset(
    {
        ".mkv",
        ".mp4",
        ".m4v",
        ".webm",
        ".avi",
        ".mov",
        ".ts",
        ".m2ts",
        ".flv",
        ".wmv",
        ".ogv",
        ".mpg",
    }
)
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp"})

# Sampled frames are compared as tiny grayscale thumbnails this size to drop near-duplicates.
DEDUP_THUMB_SIZE = (16, 9)
# A video whose frames stop short of its declared duration by more than this many seconds, or
# this fraction of it (whichever is more), is truncated: reported, never half-added.
TRUNCATION_SLACK_S = 3.0
TRUNCATION_SLACK_FRACTION = 0.1
# Non-reference frames are skipped only when the stream runs at least this many times the rate.
SKIP_NONREF_RATE_FACTOR = 4


class UnreadableMediaError(Exception):
    """A file that cannot be decoded; carries the path so reports can name it."""

    def __init__(self, path: Path | str, reason: str) -> None:
        # Decoders quote the full path; reports go to HTTP clients, who get the file name only.
        reason = reason.replace(str(path), Path(path).name)
        super().__init__(f"{Path(path).name}: {reason}")
        self.path = Path(path)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SampledFrame:
    """One decoded frame kept for the catalog; timestamp is None for still images.

    `source_duration` is the declared length of the video it comes from, when known: the last
    kept frame stands for the stretch up to it (`index.query.scenes`).
    """

    image: Image.Image
    timestamp: float | None
    source_duration: float | None = None


@dataclass(frozen=True, slots=True)
class SamplingParams:
    """How a video is thinned before embedding.

    `dedup_threshold` is the mean absolute difference (0..255) of `DEDUP_THUMB_SIZE` grayscale
    thumbnails under which a sampled frame repeats the last kept one; `max_static_s` caps how long
    a static shot may go without a kept frame, so a long still still answers with a nearby
    timestamp.
    """

    fps: float = 2.0
    dedup_threshold: float = 0.6
    max_static_s: float = 3.0
    max_width: int = 640  # frames are scaled down while decoding: the embedder needs far less


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def read_image(path: Path | str) -> Image.Image:
    """Open an image file as upright RGB (EXIF orientation applied), fully loaded."""
    path = Path(path)
    try:
        with Image.open(path) as opened:
            upright = ImageOps.exif_transpose(opened)
            return to_rgb(upright)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise UnreadableMediaError(path, f"not a readable image ({error})") from error


class OpenedVideo:
    """A video file opened once: probed on opening (a video stream, its declared duration), then
    read. Close it (or use it as a context manager) when done."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self._container = av.open(str(self.path))
        except (av.FFmpegError, OSError, ValueError) as error:
            raise UnreadableMediaError(self.path, f"cannot open as video ({error})") from error
        if not self._container.streams.video:
            self._container.close()
            raise UnreadableMediaError(self.path, "no video stream")
        self._stream = self._container.streams.video[0]
        self.duration = _declared_duration(self._container, self._stream)

    def __enter__(self) -> OpenedVideo:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    def frames(self, params: SamplingParams | None = None) -> Iterator[SampledFrame]:
        """Yield frames sampled at `params.fps` by presentation time, near-duplicates dropped.

        Sampling follows `frame.time` on a fixed grid (k / fps seconds), so variable frame rates
        and dropped frames never shift timestamps. Only sampled frames are converted to RGB,
        which is where most per-frame cost lies; the rest are decoded (inter frames need them)
        and discarded.
        """
        params = params or SamplingParams()
        if params.fps <= 0:
            raise ValueError(f"fps must be positive, got {params.fps}")
        interval = 1.0 / params.fps
        stream = self._stream
        stream.thread_type = "AUTO"
        _skip_unsampled(stream, params.fps)
        origin = _stream_origin(stream)
        next_grid = 0.0
        last_kept_time: float | None = None
        last_thumb: np.ndarray | None = None
        last_time = -1.0
        decoded = 0
        try:
            for frame in self._container.decode(stream):
                decoded += 1
                time = _frame_time(frame, decoded, stream, origin)
                last_time = max(last_time, time)
                if time + 1e-6 < next_grid:
                    continue
                next_grid = (np.floor(time / interval + 1e-6) + 1) * interval
                width, height = DEDUP_THUMB_SIZE
                thumb = frame.to_ndarray(
                    width=width, height=height, format="gray", interpolation="AREA"
                )
                thumb = thumb.astype(np.float32)
                if _repeats(thumb, last_thumb, time, last_kept_time, params):
                    continue
                last_thumb, last_kept_time = thumb, time
                yield SampledFrame(_to_rgb(frame, params.max_width), round(time, 3), self.duration)
        except av.FFmpegError as error:
            raise UnreadableMediaError(
                self.path, f"decoding failed at {last_time:.1f}s ({error})"
            ) from error
        if decoded == 0:
            raise UnreadableMediaError(self.path, "no video frames could be decoded")
        declared = self.duration
        if declared is not None and last_time < declared - _truncation_slack(declared):
            raise UnreadableMediaError(
                self.path,
                f"truncated: frames end at {last_time:.1f}s of a declared {declared:.1f}s",
            )


def read_video(path: Path | str, params: SamplingParams | None = None) -> Iterator[SampledFrame]:
    """`OpenedVideo(path).frames(params)`, closing the file when the frames run out."""
    with OpenedVideo(path) as video:
        yield from video.frames(params)


def read_source(
    plan: SourcePlan, params: SamplingParams, skip: Callable[[UnreadableMediaError], None]
) -> Iterator[tuple[SampledFrame, float]]:
    """Reader: the frames of one planned source, each with how far through the source it is.

    A video is opened once for its duration and its frames. An unreadable screenshot goes to
    `skip` by name and the rest of its folder still goes in; an unreadable video raises.
    """
    if plan.kind == "video":
        with OpenedVideo(plan.paths[0]) as video:
            duration = video.duration or 0.0
            for frame in video.frames(params):
                position = min(1.0, (frame.timestamp or 0.0) / duration) if duration > 0 else 0.0
                yield frame, position
        return
    for done, path in enumerate(plan.paths, start=1):
        try:
            image = read_image(path)
        except UnreadableMediaError as error:
            skip(error)
            continue
        yield SampledFrame(image, None), done / len(plan.paths)


_SKIPPABLE_CODECS = frozenset({"h264", "hevc"})


def _skip_unsampled(stream: av.video.stream.VideoStream, fps: float) -> None:
    """Let the decoder drop non-reference frames when we sample far below the frame rate.

    Nothing depends on those frames, so skipping them never corrupts others, and timestamps stay
    exact (they come from pts); frames remain dense enough (typically every 2nd) for 2 fps.
    Limited to codecs whose decoders honour it without surprises.
    """
    rate = stream.average_rate or stream.guessed_rate
    fast = rate is not None and float(rate) >= SKIP_NONREF_RATE_FACTOR * fps
    if stream.codec_context.name in _SKIPPABLE_CODECS and fast:
        stream.codec_context.skip_frame = "NONREF"


def _repeats(
    thumb: np.ndarray,
    last_thumb: np.ndarray | None,
    time: float,
    last_kept_time: float | None,
    params: SamplingParams,
) -> bool:
    if last_thumb is None or last_kept_time is None:
        return False
    if time - last_kept_time >= params.max_static_s:
        return False
    return float(np.abs(thumb - last_thumb).mean()) < params.dedup_threshold


def _to_rgb(frame: av.VideoFrame, max_width: int) -> Image.Image:
    """The frame as RGB, scaled while converting to at most `max_width` wide.

    Through a numpy array: the same pixels as `frame.to_image`, which copies them row by row
    and twice more (docs/serving.md: 0.4 ms instead of 0.9 ms for 720p).
    """
    size = {}
    if frame.width > max_width:
        height = max(2, round(frame.height * max_width / frame.width))
        size = {"width": max_width, "height": height, "interpolation": "AREA"}
    return Image.fromarray(frame.to_ndarray(format="rgb24", **size))


def _stream_origin(stream: av.video.stream.VideoStream) -> float:
    """Seconds to subtract so the first frame sits at 0, as players display it."""
    if stream.start_time is None or stream.time_base is None:
        return 0.0
    return float(stream.start_time * stream.time_base)


def _frame_time(
    frame: av.VideoFrame, index: int, stream: av.video.stream.VideoStream, origin: float
) -> float:
    if frame.time is not None:
        return max(0.0, frame.time - origin)
    # No timestamp at all (rare raw streams): fall back to counting at the nominal rate.
    rate = stream.average_rate or stream.guessed_rate or Fraction(25)
    return (index - 1) / float(rate)


def _truncation_slack(declared: float) -> float:
    return max(TRUNCATION_SLACK_S, TRUNCATION_SLACK_FRACTION * declared)


def _declared_duration(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None
