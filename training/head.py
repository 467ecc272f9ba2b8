"""The Siamese branch's Dense head trained on frozen backbone features: CPU minutes, no images.

The warm-up stage of the seed paper's Siamese network (backbone, GAP, Dense, L2) with the backbone
frozen only ever sees the pooled features, so they are computed once and the Dense is trained on
them alone. It has no bias: on unit features it is then exactly the exported branch's Dense on
the pooled ones (the L2 after it cancels the pooled norm). It starts from the principal axes of
the training features (the backbone's own geometry, its strongest directions) and is pulled back
toward them by a weight decay: trained freely, supervised losses fit the training titles and cost
titles outside them (bench/projection.py, docs/titlehead.md "Training that pays").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from index.query.titlehead import principal_axes

if TYPE_CHECKING:
    import keras

    from training.config import TrainConfig
    from training.data import Sample


@dataclass(frozen=True)
class HeadSpec:
    """How the head is trained: its start (`pca`: principal axes; `eye`: identity columns plus
    noise; `residual`: identity plus a rank-`dim` term, full width), width, loss (`pairs`: the
    seed paper's contrastive loss on balanced pairs; `batch`: the contrastive loss over a P x K
    batch with the hardest negative; `supcon`: supervised contrastive, T 0.1), Adam steps, pull
    toward the start (per entry of ||W - W0||^2), rate, and batch shape."""

    start: str = "pca"
    dim: int = 512
    loss: str = "pairs"
    steps: int = 100
    decay: float = 1e-3
    rate: float = 1e-3
    margin: float = 1.0
    pairs: int = 32  # pairs per batch, half of different titles
    titles: int = 8  # P
    frames: int = 8  # K


def train_head(
    features: np.ndarray, labels: np.ndarray, spec: HeadSpec, seed: int = 0
) -> np.ndarray:
    """The (in, out) matrix of the head over unit `features` of titles `labels`."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    tf.random.set_seed(seed)
    width = features.shape[1]
    start = start_matrix(features, spec, rng)
    if spec.start == "residual":  # W = I + A B, B starts at 0: the backbone exactly
        factors = [
            tf.Variable(rng.normal(0, 0.01, (width, spec.dim)).astype(np.float32)),
            tf.Variable(np.zeros((spec.dim, width), np.float32)),
        ]

        def matrix() -> tf.Tensor:
            return tf.eye(width) + factors[0] @ factors[1]
    else:
        factors = [tf.Variable(start)]

        def matrix() -> tf.Tensor:
            return factors[0]

    loss_of = _loss(spec)
    optimizer = tf.keras.optimizers.Adam(spec.rate)
    anchor = tf.constant(start)

    @tf.function(autograph=False)  # no Python control flow to convert
    def step(x: tf.Tensor, y: tf.Tensor) -> None:
        with tf.GradientTape() as tape:
            w = matrix()
            loss = loss_of(x, y, w) + spec.decay * tf.reduce_sum(tf.square(w - anchor))
        optimizer.apply_gradients(zip(tape.gradient(loss, factors), factors, strict=True))

    classes = np.unique(labels)
    for _ in range(spec.steps):
        x, y = feature_batch(features, labels, classes, spec, rng)
        step(tf.constant(x, tf.float32), tf.constant(y))
    return matrix().numpy()


def warm_up_on_features(
    embedding: keras.Model, samples: Sequence[Sample], labels: np.ndarray, config: TrainConfig
) -> dict[str, Any]:
    """`train --mode head`: set the branch's Dense (bias 0) to a head trained on the frozen
    backbone's unit features of `samples`, each frame clean and once perturbed like a query
    (`QueryAugment`), for `warmup_epochs` x `steps_per_epoch` steps; what the report keeps."""
    from model.keras_embedder import KerasEmbedder, embedding_head
    from training.augment import QueryAugment
    from training.evaluate import embed_samples
    from training.siamese import backbone_of

    started = time.perf_counter()
    frozen = KerasEmbedder(embedding_head(backbone_of(embedding), "frozen"), "frozen", config.fit)
    clean = embed_samples(frozen, samples)
    perturbed = embed_samples(frozen, samples, QueryAugment(1.0), config.seed)
    spec = head_spec(config, config.warmup_epochs, config.warmup_lr)
    features = np.concatenate([clean, perturbed])
    matrix = train_head(features, np.concatenate([labels, labels]), spec, config.seed)
    dense = embedding.get_layer("projection")
    dense.set_weights([matrix, np.zeros(matrix.shape[1], np.float32)])
    start = start_matrix(features, spec, np.random.default_rng(config.seed))  # as train_head's
    return {
        "frames": len(features),
        "steps": spec.steps,
        "loss": spec.loss,
        "moved_from_start": float(np.linalg.norm(matrix - start)),
        "seconds": round(time.perf_counter() - started, 2),
    }


def head_spec(config: TrainConfig, epochs: int, rate: float) -> HeadSpec:
    """The head's training as `config` asks for it, `epochs` x `steps_per_epoch` steps at `rate`
    from the principal axes (`--mode head`'s Dense, `--mode tail`'s Dense and blocks)."""
    return HeadSpec(
        "pca", config.embedding_dim, "pairs" if config.sampling == "pairs" else "batch",
        epochs * config.steps_per_epoch, config.head_decay, rate, config.margin,
        config.batch_size, config.titles_per_batch, config.frames_per_title,
    )  # fmt: skip


def start_matrix(features: np.ndarray, spec: HeadSpec, rng: np.random.Generator) -> np.ndarray:
    """The head before training: the principal axes of `features` (padded with orthogonal
    noise when there are fewer frames than `dim`), identity columns plus noise, or (residual)
    the identity."""
    width = features.shape[1]
    if spec.start == "residual":
        return np.eye(width, dtype=np.float32)
    if spec.start == "pca":
        axes = principal_axes(features, spec.dim)
        if axes.shape[1] < spec.dim:
            noise = rng.normal(size=(width, spec.dim - axes.shape[1]))
            noise -= axes @ (axes.T @ noise)
            axes = np.concatenate([axes, np.linalg.qr(noise)[0]], axis=1)
        return axes.astype(np.float32)
    noise = rng.normal(0, 0.03, (width, spec.dim))
    return (np.eye(width, spec.dim) + noise).astype(np.float32)


def feature_batch(
    features: np.ndarray, labels: np.ndarray, classes: np.ndarray, spec: HeadSpec, rng
) -> tuple[np.ndarray, np.ndarray]:
    """P titles x K frames (their labels), or pairs stacked [a; b] with y = 1 where the two
    are of different titles (every other pair), as the seed paper's Siamese batches."""
    if spec.loss != "pairs":
        chosen = rng.choice(classes, min(spec.titles, len(classes)), replace=False)
        rows = np.concatenate(
            [rng.choice(np.flatnonzero(labels == c), spec.frames) for c in chosen]
        )
        return features[rows], labels[rows]
    first = rng.integers(len(labels), size=spec.pairs)
    different = np.arange(spec.pairs) % 2
    second = np.array(
        [
            rng.choice(np.flatnonzero((labels == labels[a]) != bool(d)))
            for a, d in zip(first, different, strict=True)
        ]
    )
    return np.concatenate([features[first], features[second]]), different.astype(np.float32)


def _loss(spec: HeadSpec) -> Callable:
    """loss(x, y, w) of the unit rows of x @ w."""
    import tensorflow as tf

    of_embedded = embedded_loss(spec)
    return lambda x, y, w: of_embedded(tf.math.l2_normalize(x @ w, axis=1), y)


def embedded_loss(spec: HeadSpec) -> Callable:
    """loss(z, y) of unit embeddings z of a `feature_batch` (its rows and y, in its layout)."""
    import tensorflow as tf

    from training.siamese import BatchContrastiveLoss, ContrastiveLoss

    if spec.loss == "batch":
        batch = BatchContrastiveLoss(spec.margin)
        return lambda z, y: tf.reduce_mean(batch.call(y, z))
    if spec.loss == "pairs":
        pairs = ContrastiveLoss(spec.margin)

        def pair_loss(z: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
            half = tf.shape(z)[0] // 2
            distance = tf.norm(z[:half] - z[half:] + 1e-9, axis=1, keepdims=True)
            return tf.reduce_mean(pairs.call(y[:, None], distance))

        return pair_loss

    def supcon(z: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        n = tf.shape(z)[0]
        same = tf.cast(tf.equal(y[:, None], y[None, :]), tf.float32) - tf.eye(n)
        logits = z @ tf.transpose(z) / 0.1 - 1e9 * tf.eye(n)
        log_p = logits - tf.reduce_logsumexp(logits, axis=1, keepdims=True)
        return -tf.reduce_mean(tf.reduce_sum(same * log_p, 1) / tf.reduce_sum(same, 1))

    return supcon
