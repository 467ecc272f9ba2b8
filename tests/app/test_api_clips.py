"""Preview clips over HTTP on a real server: videos added over HTTP are kept under
DATA_DIR/sources, a scene's clip is a short muted H.264 MP4 cut with PyAV and cached, kept copies
go with their title; without a kept source the clip URL is null and nothing breaks."""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import av
import pytest

from app.services import Services
from model.base import Embedder
from synthetic import make_titles, render_frame
from synthetic.titles import TitleStyle
from synthetic.video import write_held_opening
from tests.app.conftest import LiveServer, add_video, make_settings, serving
from tests.app.media import jpeg_bytes

SIZE = (800, 450)  # wider than a clip may be
SECONDS = 8.0


@pytest.fixture(scope="module")
def style() -> TitleStyle:
    return make_titles(1, seed=41)[0]


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory, style: TitleStyle) -> Path:
    path = tmp_path_factory.mktemp("videos") / "Kept - 02.mp4"
    write_held_opening(style, path, 2.0, SECONDS, fps=12, size=SIZE)
    return path


def _eventually(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _ask(server: LiveServer, style: TitleStyle, moment: float) -> dict:
    shot = jpeg_bytes(render_frame(style, 1, moment, SIZE))
    with server.client() as client:
        answer = client.post("/identify", files={"image": ("s.jpg", shot, "image/jpeg")})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_scene_of_a_kept_video_has_a_short_muted_h264_clip(
    server: LiveServer, style: TitleStyle, video: Path
) -> None:
    data_dir = server.app.state.settings.data_dir
    with server.client() as client:
        add_video(client, style.name, video)
        kept = list((data_dir / "sources").glob("*/Kept - 02.mp4"))
        assert len(kept) == 1 and kept[0].read_bytes() == video.read_bytes()
        assert _eventually(lambda: not any((data_dir / "uploads").iterdir()))
        body = _ask(server, style, 5.0)
        match = body["match"]
        assert match["title"] == style.name and match["duration"] == pytest.approx(SECONDS, 0.05)
        assert match["clip_url"] == f"/frames/{match['frame_id']}/clip"
        assert all(r["clip_url"] for r in body["results"] if r["title"] == style.name)
        clip = client.get(match["clip_url"])
        assert clip.status_code == 200 and clip.headers["content-type"] == "video/mp4"
        again = client.get(match["clip_url"])  # cut once, then served from the cache
        assert again.content == clip.content
        assert (data_dir / "clips" / f"{match['frame_id']}.mp4").is_file()
    with av.open(io.BytesIO(clip.content)) as container:
        [stream] = container.streams.video
        assert not container.streams.audio
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.width <= 640
        seconds = container.duration / av.time_base
        frames = sum(1 for _ in container.decode(stream))
    assert 2.5 <= seconds <= 3.5 and frames >= 24


def test_a_static_shot_and_the_last_frame_span_to_where_they_end(
    server: LiveServer, style: TitleStyle, video: Path
) -> None:
    with server.client() as client:
        if not client.get("/titles").json():
            add_video(client, style.name, video)
    held = _ask(server, style, 0.0)["match"]
    assert (held["from"], held["source_name"]) == (0.0, "Kept - 02.mp4")
    assert 1.9 <= held["to"] <= 2.6  # the still 0-2 s is reported whole
    last = _ask(server, style, SECONDS - 1 / 12)["match"]
    assert last["to"] == pytest.approx(SECONDS, abs=0.1)  # the last frame stands until the end


def test_an_add_the_catalog_had_keeps_no_copy_and_a_removed_title_takes_its_copies(
    server: LiveServer, style: TitleStyle, video: Path
) -> None:
    data_dir = server.app.state.settings.data_dir
    with server.client() as client:
        if not client.get("/titles").json():
            add_video(client, style.name, video)
        assert len(list((data_dir / "sources").iterdir())) == 1
        add_video(client, style.name, video)  # the same file again: nothing new is kept
        # The job's clean-up runs just after it reports done.
        assert _eventually(lambda: len(list((data_dir / "sources").iterdir())) == 1)
        [title] = client.get("/titles").json()
        assert client.delete(f"/titles/{title['id']}").status_code == 204
    assert not any((data_dir / "sources").iterdir())


def test_without_a_kept_video_the_clip_url_is_null_and_nothing_breaks(
    tmp_path: Path, lite0_embedder: Embedder, style: TitleStyle, video: Path
) -> None:
    settings = make_settings(tmp_path / "data", keep_sources=False)
    with serving(settings, lite0_embedder) as server, server.client() as client:
        add_video(client, style.name, video)
        assert not (settings.data_dir / "sources").exists()
        match = _ask(server, style, 5.0)["match"]
        assert match["clip_url"] is None and match["source_name"] == "Kept - 02.mp4"
        missing = client.get(f"/frames/{match['frame_id']}/clip")
        assert missing.status_code == 404 and missing.json()["code"] == "no_clip"
        assert client.get("/frames/999999/clip").json()["code"] == "not_found"


def test_the_cli_records_the_path_it_added_from(
    tmp_path: Path, lite0_embedder: Embedder, style: TitleStyle, video: Path
) -> None:
    """Stocked as `index add` does (no copy): the clip is cut from the file where it lies, and
    a moved-away file only turns the clip off."""
    original = tmp_path / "library" / video.name
    original.parent.mkdir()
    shutil.copy(video, original)

    def stock(services: Services) -> None:
        report = services.ingestor.ingest(style.name, [original])
        assert not report.errors

    settings = make_settings(tmp_path / "data")
    with serving(settings, lite0_embedder, stock) as server, server.client() as client:
        match = _ask(server, style, 5.0)["match"]
        assert match["clip_url"] and client.get(match["clip_url"]).status_code == 200
        assert not (settings.data_dir / "sources").exists()
        original.unlink()
        gone = _ask(server, style, 6.0)["match"]
        assert gone["clip_url"] is None


def test_a_copy_left_by_an_interrupted_add_is_dropped_at_start(
    tmp_path: Path, lite0_embedder: Embedder, video: Path
) -> None:
    settings = make_settings(tmp_path / "data")
    orphan = settings.data_dir / "sources" / "src-left" / video.name
    orphan.parent.mkdir(parents=True)
    shutil.copy(video, orphan)
    with serving(settings, lite0_embedder):
        assert not orphan.exists()
