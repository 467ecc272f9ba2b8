"""Training from the catalog: labelled frames -> folder snapshot -> split by episode -> a step."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.cli import main
from index.store.frame_store import FrameStore
from index.types import FrameRecord, SourceRecord
from synthetic.render import render_frame
from synthetic.titles import make_titles
from training.data import (
    CATALOG_FRAMES_DIR,
    DataError,
    export_catalog_frames,
    samples_from_catalog,
    split_samples,
)

DIM = 8
FRAMES_PER_EPISODE = 4
# Names a folder cannot hold as they are; the export must still keep them apart and readable.
ODD_NAMES = ("Fate/Zero", ".hack//Sign")


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """A real store: 3 generated titles x 2 episodes x 4 frames, plus one title whose frames
    came as two episode-less screenshot uploads. Returns the data dir and frames per title."""
    data_dir = tmp_path_factory.mktemp("catalog")
    styles = make_titles(3, seed=5)
    names = [ODD_NAMES[0], ODD_NAMES[1], styles[2].name]
    rng = np.random.default_rng(0)
    counts: dict[str, int] = {}
    with FrameStore.open(data_dir, dim=DIM, model_name="test-model") as store:
        for name, style in zip(names, styles, strict=True):
            for episode in (1, 2):
                frames = []
                for k in range(FRAMES_PER_EPISODE):
                    t = 3.0 + 7.0 * k
                    thumb = _jpeg(render_frame(style, episode, t, (128, 72)))
                    frames.append(FrameRecord(t, hashlib.sha1(thumb).hexdigest(), thumb))
                source = SourceRecord(name, "video", f"{name}-{episode}.mkv", f"{name}:{episode}",
                                      episode=str(episode))  # fmt: skip
                store.add(source, frames, rng.normal(size=(len(frames), DIM)))
            counts[name] = 2 * FRAMES_PER_EPISODE
        for upload in (1, 2):
            frames = [
                FrameRecord(
                    None, f"u{upload}-{k}", _jpeg(render_frame(styles[0], 9, 5.0 * k, (128, 72)))
                )
                for k in range(3)
            ]
            source = SourceRecord("Stills", "images", f"upload{upload}", f"stills:{upload}")
            store.add(source, frames, rng.normal(size=(3, DIM)))
        counts["Stills"] = 6
    return data_dir, counts


def test_snapshot_labels_frames_and_split_holds_out_whole_episodes(
    catalog: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    data_dir, counts = catalog
    with FrameStore.open(data_dir, dim=DIM, model_name="test-model") as store:
        by_id = {f.frame_id: f for batch in store.iter_labelled_frames(64) for f in batch}
        samples = samples_from_catalog(store.iter_labelled_frames(batch=5), tmp_path / "snap")
    titles = {s.title for s in samples}
    assert titles == {"Fate\u2215Zero", "\uff0ehack\u2215\u2215Sign", *list(counts)[2:]}
    per_title = {t: sum(s.title == t for s in samples) for t in titles}
    assert sorted(per_title.values()) == sorted(counts.values())
    sources = {s.source for s in samples}
    assert len(sources) == 3 * 2 + 2  # one per episode, one per episode-less upload
    for sample in samples:  # each file is the stored thumbnail, byte for byte
        frame = by_id[int(sample.path.stem)]
        assert sample.path.read_bytes() == frame.thumbnail
        assert sample.load().size == (128, 72)
    split = split_samples(samples, seed=0)
    assert set(split.mode.values()) == {"source"}
    train_sources = {s.source for s in split.train}
    assert not train_sources & {s.source for s in split.test}
    assert not (tmp_path / "snap.partial").exists()
    with pytest.raises(DataError, match="already exists"):
        export_catalog_frames([], tmp_path / "snap")
    with pytest.raises(DataError, match="no frames"):
        export_catalog_frames([[], []], tmp_path / "empty")
    assert not (tmp_path / "empty").exists() and not (tmp_path / "empty.partial").exists()


@pytest.mark.slow
def test_cli_trains_from_catalog_then_evaluates_on_it(
    catalog: tuple[Path, dict[str, int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, counts = catalog
    run_dir = tmp_path / "run"
    tiny = ["--input-size", "64", "--embedding-dim", "16", "--batch-size", "4",
            "--steps-per-epoch", "2", "--val-steps", "1", "--warmup-epochs", "1",
            "--finetune-epochs", "0", "--workers", "1", "--val-fraction", "0.4"]  # fmt: skip
    code = main(["train", "--from-catalog", "--data-dir", str(data_dir), "--run-dir",
                 str(run_dir), "--no-evaluate", "--no-pretrained", *tiny])  # fmt: skip
    printed = capsys.readouterr()
    assert code == 0, printed.err
    # It ends by saying where the model and the report are.
    last = printed.out.strip().splitlines()[-2:]
    assert [line.split() for line in last] == [
        ["model:", str(run_dir / "embedder.keras")],
        ["report:", str(run_dir / "report.json")],
    ]
    snapshot = run_dir / CATALOG_FRAMES_DIR
    report = json.loads((run_dir / "report.json").read_text())
    assert Path(report["data"]) == snapshot  # a resume reads the same frames again
    assert report["epochs_completed"] == 1 and report["steps_this_session"] == 2
    assert len(report["split"]["titles"]) == len(counts)
    assert sum(report["split"]["frames"].values()) == sum(counts.values())
    assert (run_dir / "embedder.keras").stat().st_size > 0

    model, out = str(run_dir / "embedder.keras"), str(tmp_path / "eval")
    code = main(["evaluate", "--model", model, "--from-catalog", "--data-dir", str(data_dir),
                 "--out", out, "--no-plots"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    evaluation = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    assert evaluation["split"] == report["split"]  # the same split the run trained on
    assert {"fine_tuned", "untuned"} <= set(evaluation["models"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--run-dir", "{tmp}/r"], "--data DIR or --from-catalog"),
        (["evaluate", "--model", "m.keras"], "--data DIR or --from-catalog"),
        (
            ["train", "--from-catalog", "--data-dir", "{tmp}/none", "--run-dir", "{tmp}/r"],
            "no catalog in",
        ),  # fmt: skip
        (["train", "--from-catalog", "--resume", "--run-dir", "{tmp}/r"], "drop --from-catalog"),
    ],
)
def test_cli_data_choice_errors(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([part.replace("{tmp}", str(tmp_path)) for part in argv]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r" / CATALOG_FRAMES_DIR).exists()


def test_cli_refuses_both_data_and_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--data", "x", "--from-catalog", "--run-dir", "r"])
    assert exit_info.value.code == 2
    assert "not allowed with" in capsys.readouterr().err
