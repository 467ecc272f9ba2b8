"""`train --mode tail`: the backbone's last blocks fine-tuned on cached activations, on CPU.

The seed paper's partial fine-tune unfreezes the top of the backbone with BatchNorm frozen. On
CPU the frozen trunk, most of the network's cost, would be run again on every step for the same
pictures; its output does not change, so it is computed once per picture (each training frame
clean and `tail_views` times perturbed like a query, `QueryAugment`) and only the tail (the last
`tail_blocks` MBConv blocks, the 1x1 head conv, the Dense; BatchNorm in inference mode) is
trained on it with the contrastive loss of `sampling`. The Dense starts at the principal axes
of the frozen tail's pooled features (`--mode head`'s start) and every trained weight is pulled
back toward its start by `head_decay`. The result is the Siamese branch, exported as any other.
Measured: docs/titlehead.md "Fine-tuning the backbone's last blocks".
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from index.query.titlehead import unit_rows
from model.fit import fit_batch
from training.augment import QueryAugment
from training.evaluate import picture_chunks
from training.head import embedded_loss, feature_batch, head_spec, start_matrix
from training.siamese import backbone_of, unfreeze_backbone

if TYPE_CHECKING:
    from training.config import TrainConfig
    from training.data import Sample


def split_backbone(backbone: keras.Model, blocks: int) -> tuple[keras.Model, keras.Model, int]:
    """(trunk, tail, index of the tail's first layer in `backbone.layers`) of a Lite backbone
    cut before its last `blocks` MBConv blocks; the two share the backbone's layers."""
    starts = [
        i
        for i, layer in enumerate(backbone.layers)
        if layer.name.startswith("block") and layer.name.endswith(("_expand", "_dw"))
    ]
    firsts = sorted({int(backbone.layers[i].name[5:].split("_")[0]) for i in starts})
    if not firsts or blocks > len(firsts):
        raise ValueError(f"{backbone.name} has {len(firsts)} MBConv blocks, not {blocks}")
    block = firsts[-blocks]
    first = min(i for i in starts if backbone.layers[i].name.startswith(f"block{block}_"))
    cut = backbone.layers[first].input
    return keras.Model(backbone.input, cut), keras.Model(cut, backbone.output), first


def cache_activations(
    trunk: keras.Model, samples: Sequence[Sample], size: int, fit: str, views: int, seed: int
) -> np.ndarray:
    """The trunk's output (float16) for every sample clean, then for every sample perturbed
    like a query, `views` times: (1 + views) x len(samples) rows, in that order."""
    import tensorflow as tf

    spec = tf.TensorSpec((None, size, size, 3), tf.float32)
    forward = tf.function(lambda x: trunk(x, training=False), input_signature=[spec])
    parts = []
    for view in range(1 + views):
        augment = QueryAugment(1.0) if view else None
        out = np.empty((len(samples), *trunk.output_shape[1:]), np.float16)
        for start, images in picture_chunks(samples, augment, seed + view):
            batch = fit_batch(images, size, fit)
            out[start : start + len(images)] = forward(tf.constant(batch)).numpy()
        parts.append(out)
    return np.concatenate(parts)


def fine_tune_tail(
    embedding: keras.Model, samples: Sequence[Sample], labels: np.ndarray, config: TrainConfig
) -> dict[str, Any]:
    """Train the tail of `embedding` (the Siamese branch) in place on `samples`; what the
    report keeps: the cache's size and time, the mean loss of each epoch, the time training."""
    import tensorflow as tf

    started = time.perf_counter()
    backbone = backbone_of(embedding)
    trunk, tail, first = split_backbone(backbone, config.tail_blocks)
    size = config.input_size
    activations = cache_activations(
        trunk, samples, size, config.fit, config.tail_views, config.seed
    )
    rows = np.tile(np.asarray(labels), 1 + config.tail_views)
    cached = time.perf_counter() - started

    pooled = keras.Model(tail.input, keras.layers.GlobalAveragePooling2D()(tail.output))
    features = np.concatenate(
        [unit_rows(pooled.predict(part, verbose=0)) for part in
         np.array_split(activations, max(1, len(activations) // 256))]
    )  # fmt: skip
    spec = head_spec(config, config.finetune_epochs, config.finetune_lr)
    rng = np.random.default_rng(config.seed)
    dense = embedding.get_layer("projection")
    dense.set_weights([start_matrix(features, spec, rng), np.zeros(spec.dim, np.float32)])
    unfreeze_backbone(embedding, first)
    model = keras.Model(
        tail.input,
        embedding.get_layer("l2_norm")(dense(embedding.get_layer("avg_pool")(tail.output))),
    )
    weights = model.trainable_weights
    anchors = [tf.constant(w.numpy()) for w in weights]
    optimizer = keras.optimizers.Adam(spec.rate)
    loss_of = embedded_loss(spec)

    @tf.function
    def step(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = loss_of(model(x, training=False), y)
            pull = tf.add_n(
                [tf.reduce_sum(tf.square(w - a)) for w, a in zip(weights, anchors, strict=True)]
            )
            total = loss + spec.decay * pull
        optimizer.apply_gradients(zip(tape.gradient(total, weights), weights, strict=True))
        return loss

    classes, losses = np.unique(rows), []
    for _ in range(config.finetune_epochs):
        epoch = []
        for _ in range(config.steps_per_epoch):
            x, y = feature_batch(activations, rows, classes, spec, rng)
            epoch.append(float(step(tf.constant(x, tf.float32), tf.constant(y))))
        losses.append(round(float(np.mean(epoch)), 5))
    return {
        "blocks": config.tail_blocks,
        "first_layer": backbone.layers[first].name,
        "trained_weights": len(weights),
        "activations": len(activations),
        "activation_mib": round(activations.nbytes / 2**20, 1),
        "cache_seconds": round(cached, 2),
        "steps": spec.steps,
        "loss": spec.loss,
        "epoch_losses": losses,
        "seconds": round(time.perf_counter() - started, 2),
    }
