"""An `Embedder` around any Keras model mapping (n, S, S, 3) RGB 0..255 to (n, dim) vectors."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from model.base import Embedder
from model.fit import DEFAULT_FIT, check_policy, fit_batch

DEFAULT_CHUNK = 32  # images per model call: bounds memory for a long list, keeps batching gains


def embedding_head(backbone: keras.Model, name: str) -> keras.Model:
    """Backbone + global average pooling + L2 norm: the pretrained default embedding model."""
    pooled = keras.layers.GlobalAveragePooling2D(name="avg_pool")(backbone.output)
    normalised = keras.layers.UnitNormalization(name="l2_norm")(pooled)
    return keras.Model(backbone.input, normalised, name=name)


class KerasEmbedder(Embedder):
    """Thread-safe: one compiled `tf.function` with a fixed signature, safe to call concurrently."""

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
        spec = tf.TensorSpec((None, self.input_size, self.input_size, 3), tf.float32)
        # A fixed signature traces once; without it every new batch size would retrace.
        self._forward = tf.function(lambda x: model(x, training=False), input_signature=[spec])

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Fit each image to the input square (see `model.fit`), then embed in chunks.

        Fitting chunk by chunk keeps memory bounded for long lists (a float32 224px input is
        600 KB per image).
        """
        images = list(images)
        out = np.empty((len(images), self.dim), np.float32)
        for start in range(0, len(images), self.chunk_size):
            chunk = fit_batch(images[start : start + self.chunk_size], self.input_size, self.fit)
            out[start : start + len(chunk)] = self.embed_array(chunk)
        return out

    def embed_array(self, batch: np.ndarray) -> np.ndarray:
        """Embed prepared float32 (n, S, S, 3) RGB 0..255 tensors; rows of unit L2 norm."""
        batch = np.asarray(batch, dtype=np.float32)
        expected = (self.input_size, self.input_size, 3)
        if batch.ndim != 4 or batch.shape[1:] != expected:
            raise ValueError(f"expected (n, {', '.join(map(str, expected))}), got {batch.shape}")
        out = np.empty((len(batch), self.dim), np.float32)
        for start in range(0, len(batch), self.chunk_size):
            chunk = batch[start : start + self.chunk_size]
            out[start : start + len(chunk)] = self._forward(tf.constant(chunk)).numpy()
        # Normalise here too: an exported model may lack the norm layer, and the contract
        # (unit rows) must hold for every embedder; an all-zero row stays zero, never NaN.
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)
