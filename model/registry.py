"""Turn an embedder spec (a built-in name or an exported `.keras` path) into a ready `Embedder`.

Served models run on LiteRT (`model.litert`): each model is converted once, checked against
Keras, and cached by what identifies it (the weights file's hash for a built-in, the `.keras`
file's hash for an exported model). A cached model loads without importing TensorFlow; Keras is
imported only to build or convert a model not cached yet, or for `runtime="keras"` (training
and evaluation, which run where TensorFlow is).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from model.base import Embedder
from model.builtin import BACKBONES, native_input_size, weights_id
from model.exported import ExportError, calibration_of, checked_metadata, thresholds_of
from model.files import file_sha256
from model.fit import DEFAULT_FIT
from model.litert import LiteRTEmbedder, LiteRTModelError

if TYPE_CHECKING:
    import keras

DEFAULT_EMBEDDER = "efficientnet-lite0"
Runtime = Literal["litert", "keras"]
log = logging.getLogger(__name__)


class UnknownEmbedderError(ValueError):
    """The spec is neither a built-in embedder name nor an existing `.keras` file."""


class ModelNotConvertedError(RuntimeError):
    """The model is not in the cache yet and this install has no TensorFlow to convert it."""


@dataclass(frozen=True)
class ModelSource:
    """What a spec names: enough to find its cached conversion, and how to build it if absent."""

    name: str
    fit: str
    key: str  # cache file stem; changes whenever the weights do
    build: Callable[[], keras.Model]
    expected: tuple[int, int] | None = None  # (input_size, dim) an exported model declares
    thresholds: dict[str, float] | None = None  # calibrated with an exported model
    calibration: dict[str, Any] | None = None  # what they were measured on and gave


def load_embedder(
    spec: str,
    cache_dir: Path,
    *,
    input_size: int | None = None,
    runtime: Runtime = "litert",
    threads: int = 0,
) -> Embedder:
    """Built-in names use pretrained weights (pooled, L2-normalised); paths load exported models.

    `threads`: XNNPACK threads per LiteRT call (0 = one per core).
    """
    source = model_source(spec, Path(cache_dir), input_size)
    if runtime == "keras":
        from model.keras_embedder import KerasEmbedder

        embedder: Embedder = KerasEmbedder(source.build(), name=source.name, fit=source.fit)
    else:
        embedder = _litert_embedder(source, Path(cache_dir), threads)
    if source.expected and source.expected != (embedder.input_size, embedder.dim):
        raise ExportError(
            f"{spec}: converted model takes {embedder.input_size} px and gives {embedder.dim} "
            f"dims, its metadata says {source.expected}"
        )
    embedder.thresholds = source.thresholds
    embedder.calibration = source.calibration
    embedder.cache_key = source.key
    return embedder


def model_source(spec: str, cache_dir: Path, input_size: int | None = None) -> ModelSource:
    if spec.endswith(".keras"):
        meta = checked_metadata(spec)

        def build_exported() -> keras.Model:
            from model.exported import load_exported_model

            return load_exported_model(spec)[0]

        return ModelSource(
            name=meta["name"],
            fit=meta["fit"],
            key=f"exported-{file_sha256(Path(spec))[:16]}",
            build=build_exported,
            expected=(meta["input_size"], meta["dim"]),
            thresholds=thresholds_of(meta, spec),
            calibration=calibration_of(meta),
        )
    if spec not in BACKBONES:
        raise UnknownEmbedderError(
            f"unknown embedder {spec!r}; valid names: {', '.join(BACKBONES)}, "
            "or the path of an exported .keras model"
        )
    size = input_size or native_input_size(spec)
    keras_path = cache_path(spec, size, cache_dir)

    def build_pretrained() -> keras.Model:
        from model.pretrained import cached_pretrained

        return cached_pretrained(spec, size, keras_path)

    return ModelSource(name=spec, fit=DEFAULT_FIT, key=keras_path.stem, build=build_pretrained)


def cache_path(name: str, input_size: int, cache_dir: Path, suffix: str = ".keras") -> Path:
    return cache_dir / f"{name}-{input_size}-{weights_id(name)}{suffix}"


def _litert_embedder(source: ModelSource, cache_dir: Path, threads: int) -> LiteRTEmbedder:
    """The cached conversion, or a fresh one (converted, checked and cached now)."""
    path = cache_dir / f"{source.key}.tflite"
    if path.is_file():
        try:
            return LiteRTEmbedder.from_file(path, source.name, source.fit, threads=threads)
        except LiteRTModelError as exc:  # a torn file must not block startup: convert again
            log.warning("%s; converting again", exc)
    try:
        from model.convert import checked_conversion
    except ImportError as exc:  # a serving install: Keras/TensorFlow are the `tf` extra
        raise ModelNotConvertedError(
            f"{source.name} is not converted in {cache_dir} and converting needs TensorFlow "
            f"({exc.name} is missing): pip install 'shazam-anime[tf]' and run "
            "`shazam-anime prepare-model`, or point SHAZAM_CACHE_DIR at a prepared cache"
        ) from exc
    content = checked_conversion(source.build())
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.tflite")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(content)
        os.replace(tmp, path)  # atomic: concurrent loaders see no file or the whole file
    except OSError as exc:  # a read-only cache costs a conversion per start, not correctness
        log.warning("cannot write model cache %s: %s", path, exc)
    finally:
        tmp.unlink(missing_ok=True)
    return LiteRTEmbedder(content, source.name, source.fit, threads=threads)
