"""Written episodes decode with PyAV to the frames and timestamps their truth claims."""

import av
import numpy as np
import pytest

from synthetic.render import render_frame
from synthetic.titles import make_titles
from synthetic.video import FrameTruth, frame_truth, write_corrupt_video, write_episode

SIZE = (320, 180)


def test_round_trip_frames_and_timestamps(tmp_path):
    style = make_titles(2, seed=5)[1]
    path = tmp_path / "ep.mp4"
    truth = write_episode(style, 4, path, seconds=3.0, fps=8, size=SIZE)
    assert len(truth) == 24
    assert truth[5] == FrameTruth(style.name, 4, 5 / 8) == frame_truth(style, 4, 5 / 8)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == SIZE
        decoded = [
            (frame.time, frame.to_ndarray(format="rgb24")) for frame in container.decode(stream)
        ]
    assert len(decoded) == len(truth)
    for (time, _), expected in zip(decoded, truth, strict=True):
        assert abs(time - expected.timestamp) < 1 / 8
    for index in (0, 11, 23):  # lossy codec: close, not equal
        rendered = np.asarray(render_frame(style, 4, truth[index].timestamp, SIZE), np.int16)
        assert np.abs(decoded[index][1].astype(np.int16) - rendered).mean() < 6.0


def test_bad_arguments_are_rejected(tmp_path):
    style = make_titles(1)[0]
    with pytest.raises(ValueError, match="even"):
        write_episode(style, 1, tmp_path / "x.mp4", seconds=1.0, size=(321, 180))
    with pytest.raises(ValueError, match="seconds"):
        write_episode(style, 1, tmp_path / "x.mp4", seconds=0.0)
    with pytest.raises(ValueError, match="fps"):
        write_episode(style, 1, tmp_path / "x.mp4", fps=0)


@pytest.mark.parametrize("kind", ["truncated", "garbage"])
def test_corrupt_videos_fail_to_open(tmp_path, kind):
    path = write_corrupt_video(tmp_path / f"{kind}.mp4", kind=kind)
    with pytest.raises(av.error.InvalidDataError):
        with av.open(str(path)) as container:
            list(container.decode(video=0))


def test_cut_video_opens_then_breaks_or_ends_early(tmp_path):
    path = write_corrupt_video(tmp_path / "cut.mp4", kind="cut")
    decoded = 0
    with pytest.raises(av.error.FFmpegError):
        with av.open(str(path)) as container:
            for _ in container.decode(video=0):
                decoded += 1
    assert 0 < decoded < 48  # some frames came out before the damage: a reader must not keep them


def test_unknown_corrupt_kind_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="corrupt video kind"):
        write_corrupt_video(tmp_path / "x.mp4", kind="melted")
