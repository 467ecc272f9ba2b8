"""Media readers: sampled video frames with presentation timestamps, image files, episode names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageOps

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
    """One decoded frame kept for the catalog; timestamp is None for still images."""

    image: Image.Image
    timestamp: float | None


@dataclass(frozen=True, slots=True)
class SamplingParams:
    """How a video is thinned before embedding.

    `dedup_threshold` is the mean absolute difference (0..255) of 16x9 grayscale thumbnails under
    which a sampled frame repeats the last kept one; `max_static_s` caps how long a static shot may
    go without a kept frame, so a long still still answers with a nearby timestamp.
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
            return upright.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise UnreadableMediaError(path, f"not a readable image ({error})") from error


def read_video(path: Path | str, params: SamplingParams | None = None) -> Iterator[SampledFrame]:
    """Yield frames sampled at `params.fps` by presentation time, near-duplicates dropped.

    Sampling follows `frame.time` on a fixed grid (k / fps seconds), so variable frame rates and
    dropped frames never shift timestamps. Only sampled frames are converted to RGB, which is
    where most per-frame cost lies; the rest are decoded (inter frames need them) and discarded.
    """
    params = params or SamplingParams()
    if params.fps <= 0:
        raise ValueError(f"fps must be positive, got {params.fps}")
    path = Path(path)
    interval = 1.0 / params.fps
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as error:
        raise UnreadableMediaError(path, f"cannot open as video ({error})") from error
    with container:
        if not container.streams.video:
            raise UnreadableMediaError(path, "no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        _skip_unsampled(stream, params.fps)
        origin = _stream_origin(stream)
        declared = _declared_duration(container, stream)
        next_grid = 0.0
        last_kept_time: float | None = None
        last_thumb: np.ndarray | None = None
        last_time = -1.0
        decoded = 0
        try:
            for frame in container.decode(stream):
                decoded += 1
                time = _frame_time(frame, decoded, stream, origin)
                last_time = max(last_time, time)
                if time + 1e-6 < next_grid:
                    continue
                next_grid = (np.floor(time / interval + 1e-6) + 1) * interval
                thumb = frame.to_ndarray(width=16, height=9, format="gray", interpolation="AREA")
                thumb = thumb.astype(np.float32)
                if _repeats(thumb, last_thumb, time, last_kept_time, params):
                    continue
                last_thumb, last_kept_time = thumb, time
                yield SampledFrame(_to_rgb(frame, params.max_width), round(time, 3))
        except av.FFmpegError as error:
            raise UnreadableMediaError(
                path, f"decoding failed at {last_time:.1f}s ({error})"
            ) from error
        if decoded == 0:
            raise UnreadableMediaError(path, "no video frames could be decoded")
        if declared is not None and last_time < declared - max(3.0, 0.1 * declared):
            raise UnreadableMediaError(
                path, f"truncated: frames end at {last_time:.1f}s of a declared {declared:.1f}s"
            )


def probe_duration(path: Path | str) -> float | None:
    """Declared duration in seconds, for progress reporting; None when unknown or unreadable."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return None
            return _declared_duration(container, container.streams.video[0])
    except (av.FFmpegError, OSError, ValueError):
        return None


_SKIPPABLE_CODECS = frozenset({"h264", "hevc"})


def _skip_unsampled(stream: av.video.stream.VideoStream, fps: float) -> None:
    """Let the decoder drop non-reference frames when we sample far below the frame rate.

    Nothing depends on those frames, so skipping them never corrupts others, and timestamps stay
    exact (they come from pts); frames remain dense enough (typically every 2nd) for 2 fps.
    Limited to codecs whose decoders honour it without surprises.
    """
    rate = stream.average_rate or stream.guessed_rate
    if stream.codec_context.name in _SKIPPABLE_CODECS and rate and float(rate) >= 4 * fps:
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
    if frame.width <= max_width:
        return frame.to_image()
    height = max(2, round(frame.height * max_width / frame.width))
    return frame.to_image(width=max_width, height=height, interpolation="AREA")


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


def _declared_duration(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


# --- episode names -------------------------------------------------------------------------------

_BRACKETS = re.compile(r"\[[^\]]*\]|\([^)]*\)|【[^】]*】")
_SEASON_EPISODE = re.compile(r"\bS(\d{1,2})\s?E(\d{1,4})\b", re.IGNORECASE)
_NAMED = re.compile(r"(?:\b|_)(?:ep|episode|e)[\s._-]*(\d{1,4}(?:\.\d)?)(?:v\d)?(?:\b|_)", re.I)
_DASH = re.compile(r"\s-\s(\d{1,4}(?:\.\d)?)(?:v\d)?(?:\s|$)")
_CJK = re.compile(r"第\s*(\d{1,4})\s*[話话集]")
# A number after a dot that follows a digit ends a clock time or version ("at 10.23.45"), not an
# episode: screenshot tools name files that way.
_TRAILING = re.compile(r"(?:^|[\s_-]|(?<!\d)\.)(\d{1,3}(?:\.\d)?)(?:v\d)?\s*$")


def parse_episode(name: str, *, bare_number: bool = True) -> str | None:
    """Episode from a file or folder name: `S01E03` -> `S1E3`, `Show - 07`/`ep7`/`07` -> `7`.

    Bracketed tags (`[Group]`, `[1080p]`, `(BD)`) are dropped first so that resolutions, CRCs and
    years never read as episodes. `bare_number=False` ignores a lone trailing number: screenshots
    are often numbered `1.png, 2.png...`, which are frames, not episodes.
    """
    stem = (
        Path(name).stem
        if Path(name).suffix.lower() in VIDEO_EXTENSIONS | IMAGE_EXTENSIONS
        else name
    )
    stem = _BRACKETS.sub(" ", stem).replace("_", " ").strip()
    if match := _SEASON_EPISODE.search(stem):
        return f"S{int(match.group(1))}E{int(match.group(2))}"
    for pattern in (_NAMED, _DASH, _CJK, _TRAILING) if bare_number else (_NAMED, _DASH, _CJK):
        if match := pattern.search(stem):
            return _normalise_number(match.group(1))
    return None


def _normalise_number(text: str) -> str:
    whole, _, fraction = text.partition(".")
    return f"{int(whole)}.{fraction}" if fraction else str(int(whole))
