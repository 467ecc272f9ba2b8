"""Upload checks without HTTP: media sniffing, safe decoding, spooling."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from starlette.datastructures import Headers, UploadFile

from app.query_media import read_query
from app.uploads import (
    UploadError,
    UploadLimits,
    classify,
    decode_image,
    new_spool_dir,
    spool_and_validate,
)
from synthetic import make_titles, render_frame, write_episode
from tests.app.media import bomb_png, jpeg_bytes, png_bytes, rgba16_png, truncated_jpeg


def limits(**changes: int) -> UploadLimits:
    base = {"image_bytes": 10**6, "video_bytes": 10**8, "pixels": 10**7, "decoded_bytes": 10**8}
    return UploadLimits(**{**base, **changes})


def _upload(data: bytes, name: str = "x", content_type: str | None = None) -> UploadFile:
    headers = Headers({"content-type": content_type}) if content_type else Headers({})
    return UploadFile(io.BytesIO(data), size=len(data), filename=name, headers=headers)


@pytest.fixture(scope="module")
def frame() -> Image.Image:
    return render_frame(make_titles(1, seed=3)[0], 1, 2.0, (320, 180))


def test_classify_sniffs_untyped_uploads(frame: Image.Image, tmp_path: Path) -> None:
    video = tmp_path / "ep.mp4"
    write_episode(make_titles(1, seed=3)[0], 1, video, seconds=1.0, fps=6, size=(128, 72))
    assert classify(_upload(jpeg_bytes(frame)), allow_video=True) == "image"
    assert classify(_upload(video.read_bytes()), allow_video=True) == "video"
    with pytest.raises(UploadError) as refused:
        classify(_upload(b"hello, I am text" * 10), allow_video=True)
    assert refused.value.status_code == 400


@pytest.mark.parametrize("declared", ["text/plain", "application/pdf", "application/json"])
def test_classify_refuses_other_media_types(declared: str) -> None:
    with pytest.raises(UploadError) as refused:
        classify(_upload(b"%PDF-1.4", content_type=declared), allow_video=True)
    assert refused.value.status_code == 415
    assert declared in refused.value.detail


def test_identify_refuses_a_video() -> None:
    with pytest.raises(UploadError) as refused:
        classify(_upload(b"\x00" * 64, content_type="video/mp4"), allow_video=False)
    assert refused.value.status_code == 415


def test_decode_image_gives_rgb_of_the_right_size(frame: Image.Image) -> None:
    decoded = decode_image(io.BytesIO(png_bytes(frame.convert("RGBA"))), limits(pixels=10**6))
    assert decoded.mode == "RGB" and decoded.size == frame.size


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"not an image at all", 400),
        ("truncated", 400),
        (bomb_png(), 413),
        (bomb_png(3000, 3000), 413),  # under PIL's own guard, over this app's limit
    ],
)
def test_decode_image_refuses_bad_payloads(frame: Image.Image, payload, status: int) -> None:
    data = truncated_jpeg(frame) if payload == "truncated" else payload
    with pytest.raises(UploadError) as refused:
        decode_image(io.BytesIO(data), limits(pixels=4_000_000), name="shot.png")
    assert refused.value.status_code == status
    assert "shot.png" in refused.value.detail


def test_read_query_enforces_the_size_limit(frame: Image.Image) -> None:
    data = jpeg_bytes(frame)
    with pytest.raises(UploadError) as refused:
        read_query(_upload(data), limits(image_bytes=len(data) - 1))
    assert refused.value.status_code == 413
    assert "SHAZAM_MAX_UPLOAD_BYTES" in refused.value.detail
    assert read_query(_upload(data), limits(image_bytes=len(data))).frames[0].image.size == (
        320,
        180,
    )


def test_spool_keeps_names_and_refuses_the_whole_batch_on_one_bad_file(
    frame: Image.Image, tmp_path: Path
) -> None:
    spool = new_spool_dir(tmp_path)
    good = [_upload(jpeg_bytes(frame), "Show - 03.jpg"), _upload(png_bytes(frame), "../../a.gif")]
    spooled = spool_and_validate(good, spool, limits())
    assert [item.path.name for item in spooled] == ["Show - 03.jpg", "a.png"]
    assert all(item.path.is_relative_to(spool) for item in spooled)
    with pytest.raises(UploadError):
        spool_and_validate(
            [_upload(jpeg_bytes(frame), "ok.jpg"), _upload(truncated_jpeg(frame), "bad.jpg")],
            new_spool_dir(tmp_path),
            limits(),
        )


def _encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["WEBP", "AVIF"])
def test_large_webp_and_avif_sent_untyped_are_images(fmt: str) -> None:
    """Well past the first 64 KiB (where a header-only sniff gave up), and AVIF's ISO-BMFF box
    is not mistaken for an MP4."""
    noisy = Image.effect_noise((900, 700), 90).convert("RGB")
    data = _encoded(noisy, fmt, quality=95)
    assert len(data) > 64 * 1024
    upload = _upload(data, f"shot.{fmt.lower()}", "application/octet-stream")
    assert classify(upload, allow_video=True) == "image"
    assert read_query(upload, limits()).frames[0].image.size[0] <= 900


def test_decoded_bytes_are_bounded_before_decoding() -> None:
    """16-bit RGBA: 8 bytes a pixel in the file's terms, 4 once PIL has it; over the byte limit
    while under the pixel limit, refused from the header with the setting named."""
    data = rgba16_png(2000, 1500)
    with pytest.raises(UploadError) as refused:
        decode_image(io.BytesIO(data), limits(decoded_bytes=2000 * 1500 * 4 - 1), name="big.png")
    assert refused.value.status_code == 413
    assert "SHAZAM_MAX_IMAGE_BYTES" in refused.value.detail
    decoded = decode_image(io.BytesIO(data), limits(decoded_bytes=2000 * 1500 * 4), width=480)
    assert decoded.mode == "RGB" and 480 <= decoded.width < 960  # reduced right after decoding


def test_videos_and_images_have_their_own_size_limits(tmp_path: Path) -> None:
    video = tmp_path / "ep.mp4"
    write_episode(make_titles(1, seed=3)[0], 1, video, seconds=1.0, fps=6, size=(128, 72))
    data = video.read_bytes()
    # Far over the image limit, within the video limit: accepted, spooled to disk.
    roomy = limits(image_bytes=100, video_bytes=len(data))
    spooled = spool_and_validate([_upload(data, "ep.mp4")], new_spool_dir(tmp_path), roomy)
    assert spooled[0].kind == "video" and spooled[0].path.read_bytes() == data
    with pytest.raises(UploadError) as refused:
        spool_and_validate(
            [_upload(data, "ep.mp4")], new_spool_dir(tmp_path), limits(video_bytes=len(data) - 1)
        )
    assert refused.value.status_code == 413 and "SHAZAM_MAX_VIDEO_BYTES" in refused.value.detail
