"""Keras embedding model -> LiteRT flatbuffer, checked against Keras before it is trusted.

Needs TensorFlow (the converter lives there); the result runs without it (`model.litert`).
"""

from __future__ import annotations

import logging

import keras
import numpy as np
from ai_edge_litert.interpreter import Interpreter

# A float conversion reproduces Keras to rounding (cosine 1.0000 measured, docs/serving.md);
# anything below this means a wrong graph, not noise.
MIN_COSINE = 0.9999
log = logging.getLogger(__name__)


class ConversionError(RuntimeError):
    """A Keras model could not be converted, or its conversion disagrees with it."""


def check_inputs(input_size: int) -> np.ndarray:
    """Fixed probe images: seeded noise, a smooth gradient and flat grey, RGB 0..255."""
    rng = np.random.default_rng(20240501)
    noise = rng.uniform(0, 255, (2, input_size, input_size, 3))
    ramp = np.linspace(0, 255, input_size)
    gradient = np.stack(np.broadcast_arrays(ramp[:, None], ramp[None, :], ramp[::-1, None]), -1)
    grey = np.full((input_size, input_size, 3), 128.0)
    return np.concatenate([noise, gradient[None], grey[None]]).astype(np.float32)


def to_litert(model: keras.Model) -> bytes:
    """The float LiteRT flatbuffer of `model` (batch dimension left dynamic)."""
    if keras.backend.backend() != "tensorflow":
        raise ConversionError(
            f"converting to LiteRT needs the TensorFlow backend, not {keras.backend.backend()!r}"
        )
    import tensorflow as tf

    try:
        return tf.lite.TFLiteConverter.from_keras_model(model).convert()
    except Exception as exc:  # the converter raises many types; one clear error
        raise ConversionError(f"cannot convert {model.name} to LiteRT: {exc}") from exc


def litert_outputs(content: bytes, batch: np.ndarray) -> np.ndarray:
    interpreter = Interpreter(model_content=content)
    (source,), (sink,) = interpreter.get_input_details(), interpreter.get_output_details()
    interpreter.resize_tensor_input(source["index"], batch.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], batch)
    interpreter.invoke()
    return interpreter.get_tensor(sink["index"])


def _unit(rows: np.ndarray) -> np.ndarray:
    """Unit rows as the embedders serve them: a zero row (LiteRT normalises it to NaN) is zero."""
    rows = np.nan_to_num(np.asarray(rows, np.float64), nan=0.0)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def agreement(model: keras.Model, content: bytes) -> float:
    """The worst cosine between Keras and LiteRT outputs over the fixed probe images (a row
    zero in both agrees)."""
    batch = check_inputs(int(model.input_shape[1]))
    expected = _unit(keras.ops.convert_to_numpy(model(batch, training=False)))
    got = _unit(litert_outputs(content, batch))
    cosines = (expected * got).sum(axis=1)
    both_zero = ~expected.any(axis=1) & ~got.any(axis=1)
    return float(np.where(both_zero, 1.0, cosines).min())


def checked_conversion(model: keras.Model) -> bytes:
    """Convert, then refuse the result unless it agrees with Keras (cosine >= MIN_COSINE)."""
    content = to_litert(model)
    cosine = agreement(model, content)
    if not cosine >= MIN_COSINE:  # NaN included
        raise ConversionError(
            f"LiteRT conversion of {model.name} disagrees with Keras (cosine {cosine:.5f} "
            f"< {MIN_COSINE}); refusing to serve it"
        )
    log.info("converted %s to LiteRT (cosine to Keras %.6f)", model.name, cosine)
    return content
