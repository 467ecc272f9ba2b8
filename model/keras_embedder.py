"""An `Embedder` around any Keras model mapping (n, S, S, 3) RGB 0..255 to (n, dim) vectors."""

from __future__ import annotations

import threading
from collections.abc import Callable

import keras
import numpy as np

from model.base import DEFAULT_CHUNK, ArrayEmbedder
from model.fit import DEFAULT_FIT, check_policy

Forward = Callable[[np.ndarray], np.ndarray]


def embedding_head(backbone: keras.Model, name: str) -> keras.Model:
    """Backbone + global average pooling + L2 norm: the pretrained default embedding model."""
    pooled = keras.layers.GlobalAveragePooling2D(name="avg_pool")(backbone.output)
    normalised = keras.layers.UnitNormalization(name="l2_norm")(pooled)
    return keras.Model(backbone.input, normalised, name=name)


def _bucket(n: int, cap: int) -> int:
    """The padded batch size for n rows: a power of two (at most `cap`), so a jit-compiling
    backend compiles a handful of shapes instead of one per batch size."""
    return min(cap, 1 << max(0, n - 1).bit_length())


def _tensorflow_forward(model: keras.Model, input_size: int) -> Forward:
    """One `tf.function`, safe to call from several threads at once."""
    import tensorflow as tf  # only on the TensorFlow backend: other backends may lack it

    spec = tf.TensorSpec((None, input_size, input_size, 3), tf.float32)
    # A fixed signature traces once; without it every new batch size would retrace.
    compiled = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    return lambda batch: compiled(tf.constant(batch)).numpy()


def _jax_forward(model: keras.Model, chunk_size: int) -> Forward:
    """A jitted pure function of (weights, batch): no shared mutable state, so thread-safe.

    Weights are read at each call, so a model trained further after wrapping is seen as it is.
    Batches are padded to a power of two to bound the number of compiled shapes.
    """
    import jax

    def pure(trainable: list, non_trainable: list, x: np.ndarray) -> jax.Array:
        outputs, _ = model.stateless_call(trainable, non_trainable, x, training=False)
        return outputs

    compiled = jax.jit(pure)

    def forward(batch: np.ndarray) -> np.ndarray:
        n = len(batch)
        padded = _bucket(n, chunk_size)
        if padded > n:
            batch = np.concatenate([batch, np.zeros((padded - n, *batch.shape[1:]), batch.dtype)])
        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]
        return np.asarray(compiled(trainable, non_trainable, batch))[:n]

    return forward


def _eager_forward(model: keras.Model) -> Forward:
    """Any other backend: plain calls, serialised because eager layer calls may share state."""
    lock = threading.Lock()

    def forward(batch: np.ndarray) -> np.ndarray:
        with lock:
            return keras.ops.convert_to_numpy(model(batch, training=False))

    return forward


class KerasEmbedder(ArrayEmbedder):
    """Thread-safe on every backend: a compiled `tf.function` (TensorFlow), a jitted pure
    function (JAX), or serialised eager calls (others)."""

    def __init__(
        self,
        model: keras.Model,
        name: str,
        fit: str = DEFAULT_FIT,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> None:
        shape = tuple(model.input_shape)
        if len(shape) != 4 or shape[1] != shape[2] or shape[1] is None or shape[3] != 3:
            raise ValueError(f"embedding model must take (None, S, S, 3) input, got {shape}")
        out = tuple(model.output_shape)
        if len(out) != 2 or out[1] is None:
            raise ValueError(f"embedding model must output (None, dim), got {out}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        self.model = model
        self.name = name
        self.input_size = int(shape[1])
        self.dim = int(out[1])
        self.fit = check_policy(fit)
        self.chunk_size = chunk_size
        backend = keras.backend.backend()
        if backend == "tensorflow":
            self._run = _tensorflow_forward(model, self.input_size)
        elif backend == "jax":
            self._run = _jax_forward(model, chunk_size)
        else:
            self._run = _eager_forward(model)

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        return self._run(batch)
