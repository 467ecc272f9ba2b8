"""Uploaded files: decide image or video from the bytes, decode images safely, spool to disk."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
from fastapi import UploadFile, status
from PIL import Image, ImageMode, ImageOps, UnidentifiedImageError

from app.config import Settings
from app.errors import ApiError
from index.ingest.readers import (
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    OpenedVideo,
    SamplingParams,
    UnreadableMediaError,
)
from model.fit import to_rgb

MediaKind = Literal["image", "video"]

# Multipart framing around one file plus a few small fields stays far below this.
FORM_OVERHEAD_BYTES = 64 * 1024
MAX_FILES_PER_ADD = 32
# Queries are decoded about as wide as reference frames are sampled from video, no wider.
QUERY_DECODE_WIDTH = SamplingParams().max_width

_UNSNIFFED_TYPES = {"", "application/octet-stream", "binary/octet-stream"}
# Container signatures PyAV reads: ISO-BMFF (mp4/mov/m4v), Matroska/WebM, AVI, MPEG-PS, FLV, Ogg.
_VIDEO_SIGNATURES = ((4, b"ftyp"), (0, b"\x1a\x45\xdf\xa3"), (8, b"AVI "), (0, b"\x00\x00\x01\xba"))
_VIDEO_PREFIXES = (b"FLV", b"OggS")


class UploadError(ApiError):
    """A client mistake in an upload; becomes a 4xx answer with a message."""


@dataclass(frozen=True)
class UploadLimits:
    """What one upload may cost, from settings; each 413 names the setting to raise."""

    image_bytes: int
    video_bytes: int
    pixels: int
    decoded_bytes: int

    @classmethod
    def of(cls, settings: Settings) -> UploadLimits:
        return cls(
            image_bytes=settings.max_upload_bytes,
            video_bytes=settings.max_video_bytes,
            pixels=settings.max_image_pixels,
            decoded_bytes=settings.max_image_bytes,
        )


@dataclass(frozen=True)
class SpooledUpload:
    path: Path
    kind: MediaKind
    filename: str


def too_large(what: str, limit: int, setting: str) -> UploadError:
    return UploadError(
        status.HTTP_413_CONTENT_TOO_LARGE,
        f"{what} is over the {limit}-byte limit (the server's {setting})",
    )


def check_size(upload: UploadFile, kind: MediaKind, limits: UploadLimits) -> None:
    """Per-file limit by kind; the route's body limit has already stopped an oversize request."""
    limit, setting = (
        (limits.image_bytes, "SHAZAM_MAX_UPLOAD_BYTES")
        if kind == "image"
        else (limits.video_bytes, "SHAZAM_MAX_VIDEO_BYTES")
    )
    if upload.size is not None and upload.size > limit:
        raise too_large(f"{kind} {upload.filename!r}", limit, setting)


def _declared_type(upload: UploadFile) -> str:
    return (upload.content_type or "").split(";")[0].strip().lower()


def _sniff(stream: BinaryIO) -> MediaKind | None:
    """Image if Pillow can open it (header only; AVIF, HEIF-less WebP of any size...), else video
    if it starts like a container PyAV reads; None when it is neither."""
    stream.seek(0)
    try:
        with Image.open(stream):
            return "image"
    except Image.DecompressionBombError:
        return "image"  # an image, if a hostile one: decoding refuses it with a clear 413
    except Exception:
        pass
    finally:
        stream.seek(0)
    head = stream.read(512)
    stream.seek(0)
    if any(head[offset : offset + len(sig)] == sig for offset, sig in _VIDEO_SIGNATURES):
        return "video"
    if head.startswith(_VIDEO_PREFIXES) or (len(head) > 188 and head[0] == head[188] == 0x47):
        return "video"
    return None


def classify(upload: UploadFile, *, allow_video: bool) -> MediaKind:
    """Image or video, from the declared type when it is specific, else from the content.

    A declared type that is neither (text/plain, application/pdf) is a 415; bytes that turn out
    not to decode are a 400 later, with the decoder's reason.
    """
    declared = _declared_type(upload)
    kind: MediaKind
    if declared.startswith("image/"):
        kind = "image"
    elif declared.startswith("video/"):
        kind = "video"
    elif declared in _UNSNIFFED_TYPES:
        sniffed = _sniff(upload.file)
        if sniffed is None:
            raise UploadError(
                status.HTTP_400_BAD_REQUEST,
                f"{upload.filename or 'upload'!r} is neither an image nor a video we can read",
            )
        kind = sniffed
    else:
        raise UploadError(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"unsupported media type {declared!r}; send an image"
            + (" or a video" if allow_video else ""),
        )
    if kind == "video" and not allow_video:
        raise UploadError(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"identify takes one image (a screenshot), not {declared or 'a video'}",
        )
    return kind


def decode_image(
    stream: BinaryIO, limits: UploadLimits, *, name: str = "upload", width: int | None = None
) -> Image.Image:
    """Decode to RGB, refusing oversize dimensions and decoded bytes before any pixel is
    allocated (a 300 KB 16-bit RGBA PNG can ask for hundreds of MB).

    With `width`, a large image comes back about that wide, reduced as early as its format
    allows: a JPEG at the smallest DCT scale still at least that wide (decoded smaller, several
    times faster), any other format by an integer `reduce` right after decoding, before the
    orientation and colour conversions copy it.
    """
    stream.seek(0)
    try:
        with Image.open(stream) as image:
            w, h = image.size
            if w * h > limits.pixels:
                raise UploadError(
                    status.HTTP_413_CONTENT_TOO_LARGE,
                    f"{name!r} is {w}x{h} pixels, over the {limits.pixels}-pixel limit "
                    "(the server's SHAZAM_MAX_IMAGE_PIXELS)",
                )
            if width is not None and w > width:
                image.draft("RGB", (width, max(1, h * width // w)))
            decoded = _decoded_bytes(image)
            if decoded > limits.decoded_bytes:
                raise UploadError(
                    status.HTTP_413_CONTENT_TOO_LARGE,
                    f"{name!r} would take {decoded} bytes decoded ({w}x{h} {image.mode}), over "
                    f"the {limits.decoded_bytes}-byte limit (the server's SHAZAM_MAX_IMAGE_BYTES)",
                )
            image.load()  # a truncated or corrupt file fails here, not later in a worker
            picture: Image.Image = image
            if width is not None and picture.width >= 2 * width:
                picture = picture.reduce(picture.width // width)
            return to_rgb(ImageOps.exif_transpose(picture))
    except Image.DecompressionBombError as error:
        raise UploadError(
            status.HTTP_413_CONTENT_TOO_LARGE, f"{name!r} refused as a decompression bomb: {error}"
        ) from error
    except UnidentifiedImageError as error:
        raise UploadError(
            status.HTTP_400_BAD_REQUEST, f"{name!r} is not a readable image"
        ) from error
    except UploadError:
        raise
    # PIL reports damage as OSError, SyntaxError, ValueError, EOFError...
    except Exception as error:
        raise UploadError(
            status.HTTP_400_BAD_REQUEST, f"{name!r} is damaged or truncated: {error}"
        ) from error


def _decoded_bytes(image: Image.Image) -> int:
    """Bytes the decoded pixels take in memory, at the size the decoder will produce."""
    mode = ImageMode.getmode(image.mode)
    item = np.dtype(mode.typestr).itemsize if mode.typestr else 1
    width, height = image.size
    return width * height * len(mode.bands) * item


def check_video(path: Path, name: str) -> None:
    """Refuse a file PyAV cannot open or that holds no video stream, before it becomes a job.

    The job opens it again to read it: holding it open while queued would cost a file handle
    per waiting upload.
    """
    try:
        OpenedVideo(path).close()
    except UnreadableMediaError as error:
        raise UploadError(
            status.HTTP_400_BAD_REQUEST, f"{name!r} is not a readable video: {error.reason}"
        ) from error


def new_spool_dir(data_dir: Path) -> Path:
    """A private folder under the data dir: same disk as the catalog, removed when the add ends."""
    root = data_dir / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="add-", dir=root))


def clear_spool(data_dir: Path) -> None:
    """Drop uploads left by a previous run that stopped mid-job (jobs do not outlive a restart)."""
    shutil.rmtree(data_dir / "uploads", ignore_errors=True)


def spool_and_validate(
    uploads: list[UploadFile], spool_dir: Path, limits: UploadLimits
) -> list[SpooledUpload]:
    """Check every file before anything is written to the catalog, so one bad file adds nothing.

    Blocking (disk and decoding): run it off the event loop.
    """
    spooled: list[SpooledUpload] = []
    for number, upload in enumerate(uploads):
        name = upload.filename or f"file {number + 1}"
        kind = classify(upload, allow_video=True)
        check_size(upload, kind, limits)
        # One folder per file keeps the original name (the ingestor reads episodes from names)
        # without two uploads of the same name colliding.
        folder = spool_dir / f"{number:03d}"
        folder.mkdir()
        if kind == "image":
            image = decode_image(upload.file, limits, name=name)
            path = folder / _safe_name(name, IMAGE_EXTENSIONS, ".png")
            if path.suffix == ".png" and not name.lower().endswith(".png"):
                image.save(path, format="PNG")  # a format the reader does not take: store lossless
            else:
                _copy(upload.file, path)
        else:
            path = folder / _safe_name(name, VIDEO_EXTENSIONS, ".mp4")
            _copy(upload.file, path)
            check_video(path, name)
        spooled.append(SpooledUpload(path=path, kind=kind, filename=name))
    return spooled


def _copy(stream: BinaryIO, path: Path) -> None:
    stream.seek(0)
    with path.open("wb") as out:
        shutil.copyfileobj(stream, out, 1024 * 1024)


def _safe_name(name: str, extensions: frozenset[str], fallback: str) -> str:
    """The client's file name reduced to harmless characters, with an extension readers accept."""
    stem, suffix = Path(Path(name).name).stem, Path(name).suffix.lower()
    stem = re.sub(r"[^\w .()\[\]-]+", "_", stem).strip(" .")[:120] or "upload"
    return stem + (suffix if suffix in extensions else fallback)
