"""Media readers: a video's kept frames with the time each stands for, images, a source's frames."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image, ImageOps

from index.ingest.shots import THUMB_SIZE, Stretch, StretchFinder
from index.query.rerank import FINE
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
    """One decoded frame kept for the catalog; its times are None for still images.

    A video frame stands for the stretch [`start`, `end`) of its video (`index.ingest.shots`),
    which answers give as the scene's from-to (`index.query.scenes`); `source_duration` is the
    declared length of the video, when known. `preview` is a video frame at the stored
    preview's width, scaled while decoding (`index.ingest.mapper` makes it from `image`
    otherwise).
    """

    image: Image.Image
    timestamp: float | None
    source_duration: float | None = None
    start: float | None = None
    end: float | None = None
    preview: Image.Image | None = None


@dataclass(frozen=True, slots=True)
class SamplingParams:
    """How a video is thinned before embedding (`index.ingest.shots.StretchFinder`).

    `fps` is the most frames kept per second, in fast action; `change`, `cut` and `still` are
    mean absolute differences (0..255) of `THUMB_SIZE` grey thumbnails: how far the picture
    moves from a kept frame before the next is kept, the jump between consecutive frames that
    marks a shot cut, and the level under which a frame has not moved (levels measured in
    docs/scenes.md).
    """

    fps: float = 2.0
    change: float = 3.0
    cut: float = 10.0
    still: float = 0.6
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
        """Yield one frame per stretch of the video that looks alike, with the stretch's times.

        Every decoded frame is looked at as a grey thumbnail; times follow `frame.time`, so
        variable frame rates and dropped frames never shift them. Only kept frames are converted
        to RGB, which is where most per-frame cost lies. The last stretch lasts until the
        declared duration.
        """
        params = params or SamplingParams()
        if params.fps <= 0:
            raise ValueError(f"fps must be positive, got {params.fps}")
        stream = self._stream
        stream.thread_type = "AUTO"
        skip_unsampled(stream, params.fps)
        origin = _stream_origin(stream)
        finder = stretch_finder(params)
        # One scaler per conversion, kept from frame to frame (docs/serving.md#ingestion).
        thumbs, rgb, preview = VideoReformatter(), VideoReformatter(), VideoReformatter()
        last_time = -1.0
        decoded = 0
        try:
            for frame in self._container.decode(stream):
                decoded += 1
                time = _frame_time(frame, decoded, stream, origin)
                last_time = max(last_time, time)
                closed = finder.push(frame, time, grey_thumbnail(frame, thumbs))
                if closed is not None:
                    yield self._kept(closed, params, rgb, preview)
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
        last = finder.finish(declared if declared is not None else last_time)
        if last is not None:
            yield self._kept(last, params, rgb, preview)

    def _kept(
        self,
        stretch: Stretch[av.VideoFrame],
        params: SamplingParams,
        rgb: VideoReformatter,
        preview: VideoReformatter,
    ) -> SampledFrame:
        return SampledFrame(
            _to_rgb(stretch.frame, params.max_width, rgb),
            round(stretch.time, 3),
            self.duration,
            start=round(stretch.start, 3),
            end=round(stretch.end, 3),
            preview=_to_rgb(stretch.frame, FINE[0], preview),
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


def stretch_finder(params: SamplingParams) -> StretchFinder[av.VideoFrame]:
    return StretchFinder(params.change, params.cut, params.still, 1.0 / params.fps)


def grey_thumbnail(frame: av.VideoFrame, scaler: VideoReformatter) -> np.ndarray:
    """What the shot detector compares: the frame as a `THUMB_SIZE` grey thumbnail (float).

    `scaler` is kept for the whole video: PyAV's `frame.to_ndarray(width=...)` builds a new
    one per frame, which cost six times the scaling itself (docs/serving.md#ingestion).
    """
    width, height = THUMB_SIZE
    small = scaler.reformat(frame, width=width, height=height, format="gray", interpolation="AREA")
    return small.to_ndarray().astype(np.float32)


_SKIPPABLE_CODECS = frozenset({"h264", "hevc"})


def skip_unsampled(stream: av.video.stream.VideoStream, fps: float) -> None:
    """Let the decoder drop non-reference frames when we keep far fewer than the frame rate.

    Nothing depends on those frames, so skipping them never corrupts others, and timestamps stay
    exact (they come from pts); frames remain dense enough (typically every 2nd) to place cuts
    and follow motion.
    Limited to codecs whose decoders honour it without surprises.
    """
    rate = stream.average_rate or stream.guessed_rate
    fast = rate is not None and float(rate) >= SKIP_NONREF_RATE_FACTOR * fps
    if stream.codec_context.name in _SKIPPABLE_CODECS and fast:
        stream.codec_context.skip_frame = "NONREF"


def _to_rgb(frame: av.VideoFrame, max_width: int, scaler: VideoReformatter) -> Image.Image:
    """The frame as RGB, scaled while converting to at most `max_width` wide.

    `scaler` is kept for the whole video, and the pixels go through a numpy array: the same
    pixels as `frame.to_image`, which builds a scaler per frame and copies the pixels three
    times (docs/serving.md#ingestion).
    """
    size = {}
    if frame.width > max_width:
        height = max(2, round(frame.height * max_width / frame.width))
        size = {"width": max_width, "height": height, "interpolation": "AREA"}
    return Image.fromarray(scaler.reformat(frame, format="rgb24", **size).to_ndarray())


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
