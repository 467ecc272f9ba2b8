"""`index add|list|remove|reembed|compact` and `identify` end to end: real Lite0, tiny videos."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from app.cli import main
from synthetic.perturb import PERTURBATIONS
from synthetic.render import render_frame
from synthetic.titles import make_titles
from synthetic.video import write_episode

SIZE = (320, 180)


@pytest.fixture
def cli(model_cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    """Run a command against a fresh data dir; returns (exit status, stdout, stderr)."""
    monkeypatch.setenv("SHAZAM_CACHE_DIR", str(model_cache_dir))
    monkeypatch.setenv("SHAZAM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHAZAM_SEED_DEMO", "false")

    def run(*args: str) -> tuple[int, str, str]:
        status = main(list(args))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


@pytest.mark.slow
def test_round_trip_add_list_identify_remove(cli, tmp_path: Path) -> None:
    first, second = make_titles(2, seed=11)
    write_episode(first, 1, tmp_path / "first.mp4", seconds=4, fps=4, size=SIZE)
    # The folder layout: TITLE/EPISODE/video, no --title needed.
    folder = tmp_path / "library" / "Second Show"
    write_episode(second, 2, folder / "02" / "clip.mp4", seconds=4, fps=4, size=SIZE)
    query = tmp_path / "query.jpg"
    shot = render_frame(first, 1, 2.0, SIZE)
    PERTURBATIONS["jpeg25"](shot, random.Random(0)).save(query)

    status, out, _ = cli(
        "index", "add", "--title", "First Show", "--episode", "1", str(tmp_path / "first.mp4")
    )
    assert status == 0 and "First Show: +" in out
    status, out, _ = cli("index", "add", str(folder))
    assert status == 0 and "Second Show: +" in out

    status, out, _ = cli("index", "list", "--json")
    titles = {row["name"]: row for row in json.loads(out)}
    assert set(titles) == {"First Show", "Second Show"}
    assert titles["First Show"]["frames"] > 0 and titles["Second Show"]["episodes"] == 1

    status, out, _ = cli("identify", str(query), "--top-k", "2")
    answer = json.loads(out)
    assert status == 0
    assert answer["match"]["title"] == "First Show"
    assert answer["match"]["kind"] == "frame"
    assert answer["match"]["episode"] == "1"
    assert abs(answer["match"]["timestamp"] - 2.0) <= 1.0
    assert answer["match"]["from"] <= answer["match"]["timestamp"] <= answer["match"]["to"]
    first = answer["results"][0]  # the matched scene (the re-rank may pick another of its frames)
    assert (first["source_id"], first["from"], first["to"]) == tuple(
        answer["match"][key] for key in ("source_id", "from", "to")
    )
    assert len(answer["candidates"]) <= 2

    status, _, err = cli("calibrate")
    assert status == 1 and "calibration needs at least 5 titles" in err

    status, out, _ = cli("index", "reembed")
    assert status == 0 and "re-embedded" in out
    status, out, _ = cli("identify", str(query))
    assert json.loads(out)["match"]["title"] == "First Show"  # same model: same answers
    status, out, _ = cli("index", "compact")  # already compact: the file is only rewritten
    assert status == 0 and "compacted 0 of" in out and "the index holds 192 dims" in out

    status, out, _ = cli("index", "remove", "FIRST SHOW")
    assert status == 0 and "removed First Show" in out
    status, out, _ = cli("index", "list")
    assert "Second Show" in out and "First Show" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("index", "add", "missing.mp4", "--title", "X"), "no such file or folder: missing.mp4"),
        (("index", "add", "{file}"), "--title is required when adding files"),
        (("index", "add", "--title", "  ", "{file}"), "--title must not be empty"),
        (("index", "add", "--title", "X", "--fps", "0", "{file}"), "--fps must be in"),
        (("identify", "missing.png"), "no such image: missing.png"),
        (("identify", "{file}", "--top-k", "0"), "--top-k must be between 1 and 50"),
        (("identify", "{file}"), "not a readable image"),
        (("--model", "no-such-model", "identify", "{image}"), "unknown embedder 'no-such-model'"),
        (("index", "remove", "Nobody"), "no title named 'Nobody'"),
        (("index", "reembed"), "nothing to re-embed"),
        (("index", "compact"), "nothing to compact"),
        (("serve", "--port", "70000"), "SHAZAM_PORT / --port"),
        (("calibrate",), "no catalog in"),
        (("calibrate", "--folds", "1"), "--folds must be >= 2"),
    ],
)
def test_user_errors_are_one_line_and_exit_1(cli, tmp_path: Path, args, message: str) -> None:
    not_media = tmp_path / "notes.txt"
    not_media.write_text("not a video")
    image = tmp_path / "image.png"
    render_frame(make_titles(1)[0], 1, 0.0, (64, 36)).save(image)
    args = [arg.format(file=not_media, image=image) for arg in args]
    status, out, err = cli(*args)
    assert status == 1
    assert message in err
    assert err.startswith("shazam-anime: error: ") and "Traceback" not in err
