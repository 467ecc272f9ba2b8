"""Exported embedders: the .keras + .json contract round-trips and rejects what it must."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from model.exported import FORMAT, ExportError, load_exported, read_metadata, save_exported
from model.keras_embedder import KerasEmbedder
from model.registry import load_embedder
from tests.model.tiny import tiny_model


def _images() -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (45, 80, 3), dtype=np.uint8)) for _ in range(3)]


META = {"name": "tiny-v1", "backbone": "custom", "fit": "pad", "epochs": 3}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[keras.Model, Path]:
    model = tiny_model()
    return model, save_exported(model, tmp_path_factory.mktemp("export") / "tiny.keras", META)


def test_round_trip_keeps_vectors_and_metadata(exported) -> None:
    model, path = exported
    meta = read_metadata(path)
    assert meta["format"] == FORMAT and meta["preprocessing"] == "inside-model"
    assert (meta["input_size"], meta["dim"], meta["epochs"]) == (32, 8, 3)
    assert meta["created"]
    loaded = load_exported(path)
    assert (loaded.name, loaded.dim, loaded.input_size, loaded.fit) == ("tiny-v1", 8, 32, "pad")
    expected = KerasEmbedder(model, "tiny-v1", fit="pad").embed(_images())
    np.testing.assert_allclose(loaded.embed(_images()), expected, atol=1e-6)
    served = load_embedder(str(path), cache_dir=path.parent)  # converted to LiteRT and cached
    assert (served.name, served.dim, served.input_size, served.fit) == ("tiny-v1", 8, 32, "pad")
    np.testing.assert_allclose(served.embed(_images()), expected, atol=1e-5)


def test_thresholds_travel_with_the_model(exported, tmp_path: Path) -> None:
    assert load_exported(exported[1]).thresholds is None  # none calibrated: the defaults apply
    path = _copy(exported[1], tmp_path)
    meta = json.loads(path.with_suffix(".json").read_text())
    meta["thresholds"] = {"min_similarity": 0.95, "min_title_confidence": 0.7}
    path.with_suffix(".json").write_text(json.dumps(meta))
    assert load_exported(path).thresholds == {"min_similarity": 0.95, "min_title_confidence": 0.7}


def _copy(path: Path, tmp_path: Path) -> Path:
    target = tmp_path / path.name
    target.write_bytes(path.read_bytes())
    target.with_suffix(".json").write_text(path.with_suffix(".json").read_text())
    return target


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.update(dim=16), "does not match dim"),
        (lambda m: m.update(input_size=64), "does not match metadata input_size"),
        (lambda m: m.update(format="other/9"), "format"),
        (lambda m: m.pop("backbone"), "'backbone'"),
        (lambda m: m.update(input_size=True), "'input_size'"),
        (lambda m: m.update(fit="stretch"), "fit"),
        (lambda m: m.update(preprocessing="caller"), "preprocessing"),
        (lambda m: m.update(thresholds={"min_similarity": "high"}), "'thresholds'"),
    ],
)
def test_bad_metadata_is_refused(exported, tmp_path: Path, edit, message: str) -> None:
    path = _copy(exported[1], tmp_path)
    meta = json.loads(path.with_suffix(".json").read_text())
    edit(meta)
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ExportError, match=message):
        load_exported(path)


def test_missing_or_broken_files_are_refused(exported, tmp_path: Path) -> None:
    path = _copy(exported[1], tmp_path)
    path.with_suffix(".json").write_text("{not json")
    with pytest.raises(ExportError, match="not valid JSON"):
        load_exported(path)
    path.with_suffix(".json").unlink()
    with pytest.raises(ExportError, match="metadata .* missing"):
        load_exported(path)
    with pytest.raises(ExportError, match="not found"):
        load_exported(tmp_path / "absent.keras")
    (tmp_path / "broken").mkdir()
    broken = _copy(exported[1], tmp_path / "broken")
    broken.write_bytes(b"not a zip")
    with pytest.raises(ExportError, match="cannot load"):
        load_exported(broken)


def test_save_refuses_inconsistent_requests(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"\.keras"):
        save_exported(tiny_model(), tmp_path / "model.h5", META)
    with pytest.raises(ExportError, match="does not match dim"):
        save_exported(tiny_model(), tmp_path / "m.keras", {**META, "dim": 99})
    assert not list(tmp_path.iterdir())  # nothing half-written
