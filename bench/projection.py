"""Does a trained projection beat the pretrained embedding on the title-level task? Same head.

A linear projection (1280 -> 256, L2-normalised) is trained on frozen backbone embeddings of the
training episodes' frames, clean and perturbed (the augmentations real screenshots have), with a
supervised contrastive loss on P x K batches (P titles x K frames; every other title in the batch
is a negative, the hardest weigh most through the softmax). Then `index.query.titlehead` is
fitted on the projected catalog frames (with their colour histograms), exactly as on the raw
embeddings, and both are measured
leave-episode-out like `bench/titlehead.py` (whose `--cache` embeddings it reads). CPU minutes,
no network retraining: what a projection head alone can give. Results: docs/titlehead.md.

    .venv/bin/python -m bench.projection --cache /tmp/lite0.npz
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from index.query.calibrate import operating_point  # noqa: E402
from index.query.titlehead import fit_title_model  # noqa: E402


def train_projection(
    vectors: np.ndarray, labels: np.ndarray, *, dim: int = 256, steps: int = 300, seed: int = 0
) -> np.ndarray:
    """The projection matrix, by Adam on a supervised contrastive loss (T 0.1), P 8 x K 8."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    tf.random.set_seed(seed)
    start = tf.random.normal((vectors.shape[1], dim), stddev=0.03) + tf.eye(vectors.shape[1], dim)
    weights = tf.Variable(start)
    optimizer = tf.keras.optimizers.Adam(1e-3)
    classes = np.unique(labels)
    for _ in range(steps):
        chosen = rng.choice(classes, min(8, len(classes)), replace=False)
        rows = np.concatenate([rng.choice(np.flatnonzero(labels == c), 8) for c in chosen])
        same = (labels[rows][:, None] == labels[rows][None, :]).astype(np.float32)
        positives = tf.constant(same) - tf.eye(len(rows))
        with tf.GradientTape() as tape:
            z = tf.math.l2_normalize(tf.constant(vectors[rows], tf.float32) @ weights, axis=1)
            logits = z @ tf.transpose(z) / 0.1 - 1e9 * tf.eye(len(rows))
            log_p = logits - tf.reduce_logsumexp(logits, axis=1, keepdims=True)
            per_row = tf.reduce_sum(positives * log_p, 1) / tf.reduce_sum(positives, 1)
            loss = -tf.reduce_mean(per_row)
        optimizer.apply_gradients([(tape.gradient(loss, weights), weights)])
    return weights.numpy()


def measure(
    vectors, colours, rows, known: int, project: bool, steps: int = 300
) -> dict[str, float]:
    """Leave-episode-out top-1 and the operating point (chosen on all folds but the last)."""
    title, episode, perturbed = rows[:, 0], rows[:, 1], rows[:, 2]
    folds = []
    for held in np.unique(episode).tolist():
        catalog = (title < known) & (episode != held) & (perturbed == 0)
        queries = (episode == held) & (perturbed == 1)
        gallery, asked = vectors[catalog], vectors[queries]
        if project:
            training = (title < known) & (episode != held)  # clean and perturbed
            weights = train_projection(vectors[training], title[training], steps=steps)
            gallery, asked = (_unit(x @ weights) for x in (gallery, asked))
        truth = np.where(title[queries] < known, title[queries], -1)
        model = fit_title_model(title[catalog], gallery, colours[catalog], {})
        guess, confidence, _, gate = model.answers(asked, colours[queries])
        table = np.stack([model.title_ids[guess] == truth, confidence, gate], axis=1)
        folds.append((table[truth >= 0], table[truth < 0]))
    top1 = float(np.concatenate([k for k, _ in folds])[:, 0].mean())
    chosen = [np.concatenate(part) for part in zip(*folds[:-1], strict=True)]
    confidence, similarity, *_ = operating_point(*chosen, 0.04, 0.96)
    test_known, test_unknown = folds[-1]
    answered = (test_known[:, 1] >= confidence) & (test_known[:, 2] >= similarity)
    accepted = (test_unknown[:, 1] >= confidence) & (test_unknown[:, 2] >= similarity)
    return {
        "top1": top1,
        "right": float((answered & (test_known[:, 0] == 1)).mean()),
        "wrong": float((answered & (test_known[:, 0] == 0)).mean()),
        "unknown_titles_unknown": float(1 - accepted.mean()),
    }


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True, help="bench/titlehead.py embeddings")
    parser.add_argument("--known", type=int, default=12)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args(argv)
    saved = np.load(args.cache)
    results = {}
    for name, project in (("pretrained", False), ("trained projection", True)):
        results[name] = measure(
            saved["vectors"], saved["colours"], saved["rows"], args.known, project, args.steps
        )
        print(name, {key: round(value, 3) for key, value in results[name].items()})
    return results


if __name__ == "__main__":
    main()
