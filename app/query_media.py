"""What an identify request sends, as pictures to search: a screenshot, or a few frames of a
video or an animated GIF/WebP/PNG (each answered, the surest answer kept, and said which)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO, Literal

from fastapi import UploadFile, status
from PIL import Image, ImageSequence
from starlette.datastructures import Headers

from app.uploads import (
    QUERY_DECODE_WIDTH,
    UploadError,
    UploadLimits,
    check_size,
    classify,
    decode_image,
)

QueryKind = Literal["image", "animation", "video"]
# Frames tried from a moving query: each costs a search, and a few spread over the clip find
# a moment the catalog knows (a fade or a title card at one end does not decide the answer).
MAX_QUERY_FRAMES = 4


@dataclass(frozen=True, slots=True)
class QueryFrame:
    image: Image.Image
    time: float | None  # seconds into the query clip; None for a still
    index: int  # position among the frames of the clip that were tried


@dataclass(frozen=True, slots=True)
class QueryMedia:
    kind: QueryKind
    frames: list[QueryFrame]


def as_upload(data: bytes, content_type: str, name: str) -> UploadFile:
    """Bytes from a URL or a raw request body, shaped like a multipart upload."""
    headers = Headers({"content-type": content_type or "application/octet-stream"})
    return UploadFile(io.BytesIO(data), size=len(data), filename=name, headers=headers)


def read_query(upload: UploadFile, limits: UploadLimits) -> QueryMedia:
    """The pictures of a query, or a 4xx saying what is wrong with it (blocking: offload it)."""
    kind = classify(upload, allow_video=True)
    check_size(upload, kind, limits)
    name = upload.filename or "image"
    if kind == "video":
        return QueryMedia("video", _video_frames(upload.file, name, limits.pixels))
    image = decode_image(upload.file, limits, name=name, width=QUERY_DECODE_WIDTH)
    upload.file.seek(0)
    with Image.open(upload.file) as opened:
        count = getattr(opened, "n_frames", 1)
        if count > 1:
            return QueryMedia("animation", _animation_frames(opened, count))
    return QueryMedia("image", [QueryFrame(image, None, 0)])


def _spread(count: int) -> list[int]:
    """Up to MAX_QUERY_FRAMES positions spread over `count`, middles of equal parts."""
    parts = min(count, MAX_QUERY_FRAMES)
    return sorted({int((part + 0.5) * count / parts) for part in range(parts)})


def _animation_frames(opened: Image.Image, count: int) -> list[QueryFrame]:
    wanted = set(_spread(count))
    frames, elapsed_ms = [], 0.0
    for index, frame in enumerate(ImageSequence.Iterator(opened)):
        if index in wanted:
            frames.append(QueryFrame(frame.convert("RGB"), round(elapsed_ms / 1000, 3), index))
        elapsed_ms += float(frame.info.get("duration", 0) or 0)
        if index >= max(wanted):
            break
    return frames


def _video_frames(stream: BinaryIO, name: str, max_pixels: int) -> list[QueryFrame]:
    """Frames at the middles of equal parts of the clip, decoded no wider than the catalog's."""
    import av  # PyAV; only moving queries need it

    stream.seek(0)
    try:
        with av.open(stream, mode="r") as container:
            if not container.streams.video:
                raise UploadError(status.HTTP_400_BAD_REQUEST, f"{name!r} has no video stream")
            video = container.streams.video[0]
            if video.width * video.height > max_pixels:
                raise UploadError(
                    status.HTTP_413_CONTENT_TOO_LARGE,
                    f"{name!r} is {video.width}x{video.height}, over the {max_pixels}-pixel limit",
                )
            length = float(container.duration / av.time_base) if container.duration else None
            frames = _decode_at(container, video, length)
    except UploadError:
        raise
    except Exception as error:  # PyAV's errors differ across versions; any is a bad file
        raise UploadError(
            status.HTTP_400_BAD_REQUEST, f"{name!r} is not a readable video: {error}"
        ) from error
    if not frames:
        raise UploadError(status.HTTP_400_BAD_REQUEST, f"{name!r} has no decodable frames")
    return frames


def _decode_at(container: object, video: object, length: float | None) -> list[QueryFrame]:
    parts = MAX_QUERY_FRAMES if length else 1
    times = [(part + 0.5) * (length or 0.0) / parts for part in range(parts)]
    frames: list[QueryFrame] = []
    for index, frame in enumerate(container.decode(video)):  # type: ignore[attr-defined]
        moment = float(frame.time or 0.0)
        if times and moment + 1e-6 >= times[0]:
            width = min(frame.width, QUERY_DECODE_WIDTH)
            height = max(2, round(frame.height * width / frame.width))
            image = frame.to_image(width=width, height=height)
            frames.append(QueryFrame(image, round(moment, 3), index))
            while times and moment + 1e-6 >= times[0]:
                times.pop(0)
        if not times:
            break
    return frames
