"""The on-disk contract for embedders exported by training: `<name>.keras` plus `<name>.json`.

The JSON metadata (format ``shazam-anime-embedder/1``)::

    {"format": "shazam-anime-embedder/1", "name": "...", "backbone": "efficientnet-lite0",
     "input_size": 224, "dim": 1280, "fit": "resize", "preprocessing": "inside-model",
     "created": "2024-01-01T00:00:00+00:00", ...}

Optional `"thresholds"`: the decision thresholds calibrated for this model (`min_similarity`,
`min_margin`, `min_title_confidence`, `min_title_similarity`; see `index.query.calibrate`).
Extra keys (training hyperparameters, metrics) are kept as they are. The model takes float32
(n, S, S, 3) RGB in 0..255 and does its own preprocessing; its output is the embedding.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.fit import FIT_POLICIES

if TYPE_CHECKING:  # Keras only to save and load: reading the metadata must not import it
    import keras

    from model.keras_embedder import KerasEmbedder

FORMAT = "shazam-anime-embedder/1"
PREPROCESSING = "inside-model"
_REQUIRED: dict[str, type] = {
    "format": str,
    "name": str,
    "backbone": str,
    "input_size": int,
    "dim": int,
    "fit": str,
    "preprocessing": str,
}


class ExportError(ValueError):
    """An exported embedder is missing, malformed or disagrees with its metadata."""


def metadata_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def _check_metadata(meta: Any, source: str) -> dict[str, Any]:
    if not isinstance(meta, dict):
        raise ExportError(f"{source}: metadata must be a JSON object")
    for key, kind in _REQUIRED.items():
        value = meta.get(key)
        # bool is an int subclass; a true/false input_size is still malformed.
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ExportError(f"{source}: metadata field {key!r} must be a {kind.__name__}")
    if meta["format"] != FORMAT:
        raise ExportError(f"{source}: format {meta['format']!r} is not {FORMAT!r}")
    if meta["preprocessing"] != PREPROCESSING:
        raise ExportError(f"{source}: preprocessing must be {PREPROCESSING!r}")
    if meta["fit"] not in FIT_POLICIES:
        raise ExportError(f"{source}: fit {meta['fit']!r} not one of {', '.join(FIT_POLICIES)}")
    if meta["input_size"] < 1 or meta["dim"] < 1:
        raise ExportError(f"{source}: input_size and dim must be positive")
    return meta


def _check_model(model: keras.Model, meta: dict[str, Any], source: str) -> None:
    size, dim = meta["input_size"], meta["dim"]
    if tuple(model.input_shape) != (None, size, size, 3):
        raise ExportError(
            f"{source}: model input {model.input_shape} does not match metadata input_size {size}"
        )
    if tuple(model.output_shape) != (None, dim):
        raise ExportError(f"{source}: model output {model.output_shape} does not match dim {dim}")


def save_exported(model: keras.Model, path: str | Path, meta: dict[str, Any]) -> Path:
    """Write `path` (.keras) and its .json; fills format/preprocessing/created/input_size/dim."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ExportError(f"exported model path must end in .keras, got {path.name}")
    full = {
        "format": FORMAT,
        "preprocessing": PREPROCESSING,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "input_size": int(model.input_shape[1]),
        "dim": int(model.output_shape[-1]),
        **meta,
    }
    full.setdefault("name", path.stem)
    _check_metadata(full, str(path))
    _check_model(model, full, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write both to temporary names first so a reader never sees a half-written pair.
    tmp_model = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")
    tmp_meta = path.with_name(f".{path.stem}.{os.getpid()}.tmp.json")
    try:
        model.save(tmp_model)
        tmp_meta.write_text(json.dumps(full, indent=2, sort_keys=True) + "\n")
        os.replace(tmp_model, path)
        os.replace(tmp_meta, metadata_path(path))
    finally:
        tmp_model.unlink(missing_ok=True)
        tmp_meta.unlink(missing_ok=True)
    return path


def update_metadata(path: str | Path, values: dict[str, Any]) -> dict[str, Any]:
    """Merge `values` (e.g. calibrated `thresholds`) into the metadata of the exported model at
    `path`, checked and replaced atomically; returns the new metadata."""
    meta = {**read_metadata(path), **values}
    _check_metadata(meta, str(path))
    thresholds_of(meta, str(path))
    target = metadata_path(Path(path))
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.json")
    try:
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return meta


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The validated metadata of the exported model at `path` (.keras)."""
    meta_file = metadata_path(Path(path))
    if not meta_file.is_file():
        raise ExportError(f"metadata {meta_file} missing beside the exported model {path}")
    try:
        meta = json.loads(meta_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ExportError(f"{meta_file}: not valid JSON ({exc})") from exc
    return _check_metadata(meta, str(meta_file))


def checked_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of an exported model that exists; what serving needs before any Keras."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"exported model not found: {path}")
    return read_metadata(path)


def load_exported_model(path: str | Path) -> tuple[keras.Model, dict[str, Any]]:
    """The Keras model at `path` and its metadata, checked against each other."""
    import keras

    meta = checked_metadata(path)
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as exc:  # keras raises many types for a bad archive; one clear error
        raise ExportError(f"{path}: cannot load Keras model ({exc})") from exc
    _check_model(model, meta, str(path))
    return model, meta


def load_exported(path: str | Path) -> KerasEmbedder:
    """Load an exported embedder on Keras, checking the model against its metadata."""
    from model.keras_embedder import KerasEmbedder

    model, meta = load_exported_model(path)
    embedder = KerasEmbedder(model, name=meta["name"], fit=meta["fit"])
    embedder.thresholds = thresholds_of(meta, str(path))
    embedder.calibration = calibration_of(meta)
    return embedder


def calibration_of(meta: dict[str, Any]) -> dict[str, Any] | None:
    """The optional `calibration` object of the metadata: what the thresholds were measured on."""
    calibration = meta.get("calibration")
    return calibration if isinstance(calibration, dict) else None


def thresholds_of(meta: dict[str, Any], source: str) -> dict[str, float] | None:
    """The optional `thresholds` object of the metadata: names to numbers."""
    thresholds = meta.get("thresholds")
    if thresholds is None:
        return None
    if not isinstance(thresholds, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in thresholds.values()
    ):
        raise ExportError(f"{source}: metadata field 'thresholds' must map names to numbers")
    return {str(k): float(v) for k, v in thresholds.items()}
