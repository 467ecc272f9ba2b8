"""The Siamese network: a named embedding branch shared by two inputs, and contrastive losses."""

from __future__ import annotations

from typing import Any, TypeAlias

import keras
from keras import ops

_EPSILON = 1e-9  # keeps sqrt differentiable at D = 0 (identical inputs)
# A tensor of whichever backend runs (tf.Tensor, jax.Array, ...): Keras has no common type.
Tensor: TypeAlias = Any


def build_embedding_model(
    backbone: keras.Model, embedding_dim: int = 512, name: str = "embedding"
) -> keras.Model:
    """Backbone + global average pooling + Dense(embedding_dim) + L2 normalisation.

    The backbone is called with `training=False` so its BatchNorm layers stay in inference mode
    even while unfrozen: small fine-tuning batches would otherwise wreck the ImageNet statistics.
    This is its own named model so it can be exported alone (model surgery) after training.
    """
    if embedding_dim < 1:
        raise ValueError(f"embedding_dim must be positive, got {embedding_dim}")
    inputs = keras.Input(backbone.input_shape[1:], name="image")
    features = backbone(inputs, training=False)
    pooled = keras.layers.GlobalAveragePooling2D(name="avg_pool")(features)
    projected = keras.layers.Dense(embedding_dim, name="projection")(pooled)
    normalised = keras.layers.UnitNormalization(name="l2_norm")(projected)
    return keras.Model(inputs, normalised, name=name)


def backbone_of(embedding: keras.Model) -> keras.Model:
    """The backbone nested inside an embedding model built by `build_embedding_model`."""
    for layer in embedding.layers:
        if isinstance(layer, keras.Model):
            return layer
    raise ValueError(f"model {embedding.name!r} has no nested backbone model")


def freeze_backbone(embedding: keras.Model) -> None:
    """Warm-up: only the new projection head learns."""
    backbone_of(embedding).trainable = False


def unfreeze_backbone(embedding: keras.Model, frozen_layers: int) -> int:
    """Fine-tune: unfreeze all but the first `frozen_layers` layers; BatchNorm stays frozen.

    In Keras 3 a BatchNormalization layer with `trainable=False` also runs in inference mode, so
    its moving statistics and its scale/offset stay as pretrained. Returns trainable layer count.
    """
    backbone = backbone_of(embedding)
    backbone.trainable = True
    trainable = 0
    for index, layer in enumerate(backbone.layers):
        frozen = index < frozen_layers or isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = not frozen
        trainable += int(layer.trainable and bool(layer.weights))
    return trainable


@keras.saving.register_keras_serializable(package="shazam_training")
class EuclideanDistance(keras.layers.Layer):
    """D = ||a - b||_2 per row, shape (batch, 1)."""

    def call(self, inputs: list[Tensor]) -> Tensor:
        first, second = inputs
        squared = ops.sum(ops.square(first - second), axis=1, keepdims=True)
        return ops.sqrt(ops.maximum(squared, _EPSILON))

    def compute_output_shape(self, input_shape: list) -> tuple:
        return (input_shape[0][0], 1)


def build_siamese_model(embedding: keras.Model) -> keras.Model:
    """Two images through the same embedding (shared weights) to their Euclidean distance."""
    shape = embedding.input_shape[1:]
    first, second = keras.Input(shape, name="image_a"), keras.Input(shape, name="image_b")
    distance = EuclideanDistance(name="distance")([embedding(first), embedding(second)])
    return keras.Model([first, second], distance, name="siamese")


@keras.saving.register_keras_serializable(package="shazam_training")
class ContrastiveLoss(keras.losses.Loss):
    """L = 1/2 (1 - Y) D^2 + 1/2 Y max(0, m - D)^2, with Y = 0 similar and Y = 1 dissimilar.

    Similar pairs are pulled together; dissimilar ones pushed out to the margin m and then left
    alone. For unit-norm embeddings D lies in [0, 2], so m = 1 asks for cosine similarity <= 0.5.
    """

    def __init__(self, margin: float = 1.0, name: str = "contrastive", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        if margin <= 0:
            raise ValueError(f"margin must be positive, got {margin}")
        self.margin = float(margin)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        y = ops.reshape(ops.cast(y_true, y_pred.dtype), ops.shape(y_pred))
        similar = (1.0 - y) * ops.square(y_pred)
        dissimilar = y * ops.square(ops.maximum(self.margin - y_pred, 0.0))
        return ops.squeeze(0.5 * (similar + dissimilar), axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "margin": self.margin}


def pairwise_distances(embeddings: Tensor) -> Tensor:
    """Euclidean distance between every two rows, (B, B)."""
    squared_norms = ops.sum(ops.square(embeddings), axis=1)
    squared = (
        squared_norms[:, None]
        + squared_norms[None, :]
        - 2.0 * ops.matmul(embeddings, ops.transpose(embeddings))
    )
    return ops.sqrt(ops.maximum(squared, _EPSILON))


@keras.saving.register_keras_serializable(package="shazam_training")
class BatchContrastiveLoss(keras.losses.Loss):
    """The contrastive loss over every pair inside a P x K batch (y_true = title ids).

    Per anchor: the mean pull term over its same-title partners plus the push term over its
    other-title partners, either averaged or, with `hard_negatives`, only for the closest one
    (the other title it is most likely to be confused with).
    """

    def __init__(
        self, margin: float = 1.0, hard_negatives: bool = True, name: str = "batch_contrastive",
        **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(name=name, **kwargs)
        if margin <= 0:
            raise ValueError(f"margin must be positive, got {margin}")
        self.margin = float(margin)
        self.hard_negatives = bool(hard_negatives)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        labels = ops.reshape(y_true, (-1,))
        distances = pairwise_distances(y_pred)
        same = ops.cast(ops.equal(labels[:, None], labels[None, :]), y_pred.dtype)
        not_self = 1.0 - ops.eye(ops.shape(labels)[0], dtype=y_pred.dtype)
        positive, negative = same * not_self, 1.0 - same
        pull = ops.sum(positive * 0.5 * ops.square(distances), axis=1) / ops.maximum(
            ops.sum(positive, axis=1), 1.0
        )
        push_all = 0.5 * ops.square(ops.maximum(self.margin - distances, 0.0))
        if self.hard_negatives:
            # The largest push term is the closest other-title frame; 0 where none exists.
            push = ops.max(push_all * negative, axis=1)
        else:
            push = ops.sum(push_all * negative, axis=1) / ops.maximum(
                ops.sum(negative, axis=1), 1.0
            )
        return pull + push

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "margin": self.margin,
            "hard_negatives": self.hard_negatives,
        }
