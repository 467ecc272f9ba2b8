"""A real, small Keras embedding branch: converts to LiteRT in a second, not a minute."""

from __future__ import annotations

import keras


def tiny_model(dim: int = 8, seed: int = 0) -> keras.Model:
    """32 px RGB 0..255 in, `dim` unit-norm out, preprocessing inside; `seed` sets the weights."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, strides=2, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(dim)(x)
    return keras.Model(inputs, keras.layers.UnitNormalization()(x), name="embedding")
