"""Video sampling by presentation time, duplicates dropped, images, bad input."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from index.ingest.mapper import preview_pixels
from index.ingest.readers import (
    SamplingParams,
    UnreadableMediaError,
    read_image,
    read_video,
)
from index.ingest.sources import plan_sources, source_hash
from index.query.rerank import FINE
from synthetic.titles import make_title
from synthetic.video import write_corrupt_video, write_episode


def _write_frames(path: Path, frames: list[np.ndarray], fps: int, pts_step: int = 1) -> None:
    """An MP4 of raw frames; `pts_step` > 1 leaves time gaps (a variable-rate stream)."""
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        for index, pixels in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = index * pts_step
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _ramp(index: int) -> np.ndarray:
    """A frame that differs clearly from its neighbours: a bright bar sweeping across."""
    pixels = np.full((64, 112, 3), 40, np.uint8)
    left = (index * 7) % 100
    pixels[:, left : left + 12] = 230
    return pixels


def _stretches(frames: list) -> list[tuple[float, float, float]]:
    return [(frame.start, frame.timestamp, frame.end) for frame in frames]


def test_kept_frames_stand_for_stretches_that_tile_the_video(tmp_path: Path) -> None:
    path = tmp_path / "moving.mp4"
    _write_frames(path, [_ramp(i) for i in range(50)], fps=10)  # 5 s of motion
    frames = list(read_video(path, SamplingParams(fps=2.0)))
    spans = _stretches(frames)
    assert spans[0][0] == 0.0 and spans[-1][2] == pytest.approx(5.0, abs=0.01)
    assert all(start <= at < end for start, at, end in spans)
    assert all(before[2] == after[0] for before, after in zip(spans, spans[1:], strict=False))
    assert len(frames) <= 5.0 * 2.0 + 1  # fps caps the frames kept per second of motion
    assert all(frame.image.mode == "RGB" and frame.image.size == (112, 64) for frame in frames)


def test_timestamps_follow_pts_not_frame_count(tmp_path: Path) -> None:
    """Frames 0.3 s apart (pts gaps): every kept time and stretch end is a frame's own time."""
    path = tmp_path / "gappy.mp4"
    frames = [_ramp(i) for i in range(12)]
    _write_frames(path, frames, fps=10, pts_step=3)  # each frame lasts 0.3 s
    spans = _stretches(read_video(path, SamplingParams(fps=2.0)))
    inner = [time for span in spans for time in span][:-1]  # the last end is the duration
    assert len(spans) > 1
    assert all(round(time / 0.3, 6) == round(time / 0.3) for time in inner)


def test_a_static_shot_is_one_frame_with_its_start_and_end(tmp_path: Path) -> None:
    path = tmp_path / "still.mp4"
    still = _ramp(3)
    _write_frames(path, [still] * 80 + [_ramp(40)] * 5, fps=10)  # 8 s still, then a cut
    spans = _stretches(read_video(path, SamplingParams(fps=2.0)))
    assert [time for span in spans for time in span] == pytest.approx([0, 0, 8, 8, 8, 8.5])


def test_large_frames_are_scaled_down_while_decoding(tmp_path: Path) -> None:
    path = tmp_path / "big.mp4"
    write_episode(make_title(0, 1), 1, path, seconds=1.0, fps=4, size=(960, 540))
    frames = list(read_video(path, SamplingParams(max_width=320)))
    assert frames and all(frame.image.size == (320, 180) for frame in frames)


def test_video_frames_come_with_their_preview_scaled_while_decoding(tmp_path: Path) -> None:
    """The preview's pixels, a tenth of the cost of shrinking the kept frame again, and within
    about 2 grey levels of that shrink (docs/serving.md#ingestion)."""
    path = tmp_path / "episode.mp4"
    write_episode(make_title(0, 1), 1, path, seconds=2.0, fps=4, size=(1280, 720))
    frames = list(read_video(path))
    assert frames
    for frame in frames:
        assert frame.preview is not None and frame.preview.size == FINE
        shrunk = np.asarray(preview_pixels(frame.image), dtype=np.float32)
        assert np.abs(np.asarray(frame.preview, dtype=np.float32) - shrunk).mean() < 2.5


@pytest.mark.parametrize("size", [(960, 540), (322, 180)])
def test_frames_hold_the_pixels_pyav_converts_them_to(tmp_path: Path, size: tuple) -> None:
    """The reader's RGB conversion (through numpy) gives PyAV's own `to_image` pixels, scaled
    or not, odd widths included: the catalog's frames do not depend on the faster path."""
    path = tmp_path / "episode.mp4"
    write_episode(make_title(0, 1), 1, path, seconds=1.0, fps=4, size=size)
    frames = list(read_video(path, SamplingParams(max_width=320)))
    with av.open(str(path)) as container:
        scaled = {"width": 320, "height": round(size[1] * 320 / size[0]), "interpolation": "AREA"}
        options = scaled if size[0] > 320 else {}
        expected = {
            round(float(frame.time), 3): frame.to_image(**options)
            for frame in container.decode(video=0)
        }
    assert frames
    for frame in frames:  # each kept frame, against the frame PyAV shows at its time
        image = expected[frame.timestamp]
        assert frame.image.size == image.size
        assert np.array_equal(np.asarray(frame.image), np.asarray(image))


@pytest.mark.parametrize("kind", ["truncated", "cut", "garbage"])
def test_corrupt_videos_raise_a_named_error(tmp_path: Path, kind: str) -> None:
    path = write_corrupt_video(tmp_path / f"{kind}.mp4", kind)
    with pytest.raises(UnreadableMediaError) as caught:
        list(read_video(path))
    assert caught.value.path == path
    assert path.name in str(caught.value)


def test_missing_video_raises_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(UnreadableMediaError, match="nothing.mkv"):
        list(read_video(tmp_path / "nothing.mkv"))


def test_images_are_upright_rgb(tmp_path: Path) -> None:
    path = tmp_path / "rotated.jpg"
    image = Image.new("RGBA", (40, 20), (200, 30, 30, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    image.convert("RGB").save(path, exif=exif)
    loaded = read_image(path)
    assert loaded.mode == "RGB" and loaded.size == (20, 40)


def test_unreadable_image_raises_a_named_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(UnreadableMediaError, match="broken.png"):
        read_image(path)


def test_folder_layout_makes_one_source_per_episode_folder_and_video(tmp_path: Path) -> None:
    title = tmp_path / "Some Title"
    (title / "Episode 02").mkdir(parents=True)
    (title / "03").mkdir()
    for folder, count in ((title, 2), (title / "Episode 02", 3), (title / "03", 1)):
        for i in range(count):
            Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(folder / f"shot{i}.png")
    (title / "Some Title - 05.mkv").write_bytes(b"")
    (title / "notes.txt").write_text("ignored")
    plans, errors = plan_sources([title, tmp_path / "missing.mp4", tmp_path / "x.gif"])
    summary = sorted((plan.kind, plan.episode or "-", len(plan.paths)) for plan in plans)
    assert summary == [
        ("images", "-", 2),
        ("images", "2", 3),
        ("images", "3", 1),
        ("video", "5", 1),
    ]
    assert [Path(error.path).name for error in errors] == ["missing.mp4", "x.gif"]


def test_image_group_hash_ignores_order(tmp_path: Path) -> None:
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"{i}.png")
        Image.new("RGB", (8, 8), (i * 50, 10, 10)).save(paths[-1])
    forward, _ = plan_sources(paths)
    backward, _ = plan_sources(paths[::-1])
    assert source_hash(forward[0]) == source_hash(backward[0])
