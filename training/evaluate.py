"""Held-out evaluation: kNN metrics, figures and JSON; fine-tuned beside the untuned backbone."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
from PIL import Image

from index.query.calibrate import usable_thresholds
from index.query.colour import PALETTE_DIM, colour_histogram
from model.backbones import build_backbone
from model.base import Embedder
from model.exported import load_exported, read_metadata
from model.keras_embedder import KerasEmbedder, embedding_head
from model.registry import load_embedder
from training import metrics
from training.augment import QueryAugment
from training.config import TrainConfig
from training.data import Sample, Split, scan_image_tree, split_samples
from training.titlelevel import title_level

REPORT_FILE = "evaluation.json"
_CHUNK = 64  # images decoded and embedded at a time: bounds memory on big splits


def embed_samples(
    embedder: Embedder,
    samples: Sequence[Sample],
    augment: QueryAugment | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Embed frames (optionally perturbed like a query, the same way for every embedder)."""
    out = np.empty((len(samples), embedder.dim), np.float32)
    for start, images in picture_chunks(samples, augment, seed):
        out[start : start + len(images)] = embedder.embed(images)
    return out


def sample_colours(
    samples: Sequence[Sample], augment: QueryAugment | None = None, seed: int = 0
) -> np.ndarray:
    """Palettes (`index.query.colour`) of the same pictures `embed_samples` embeds."""
    out = np.empty((len(samples), PALETTE_DIM), np.float32)
    for start, images in picture_chunks(samples, augment, seed):
        out[start : start + len(images)] = [colour_histogram(image) for image in images]
    return out


def picture_chunks(
    samples: Sequence[Sample], augment: QueryAugment | None, seed: int
) -> Iterator[tuple[int, list[Image.Image]]]:
    """(first index, decoded pictures) `_CHUNK` at a time; a perturbation depends only on
    (seed, index), so every pass over the samples sees the same pictures."""
    for start in range(0, len(samples), _CHUNK):
        images = []
        for offset, sample in enumerate(samples[start : start + _CHUNK]):
            image = sample.load()
            if augment is not None:
                image = augment(image, np.random.default_rng([seed, start + offset]))
            images.append(image)
        yield start, images


def score(
    gallery: np.ndarray,
    gallery_labels: np.ndarray,
    queries: np.ndarray,
    query_labels: np.ndarray,
    names: Sequence[str],
) -> dict[str, Any]:
    """Top-1 kNN accuracy, a 5-NN vote, recall@k and per-title precision/recall."""
    predicted = metrics.knn_predict(queries, gallery, gallery_labels, k=1)
    matrix = metrics.confusion_matrix(query_labels, predicted, len(names))
    precision, recall = metrics.per_class_precision_recall(matrix)
    return {
        "top1_accuracy": float(np.mean(predicted == query_labels)),
        "knn5_vote_accuracy": metrics.knn_accuracy(
            queries, query_labels, gallery, gallery_labels, k=5
        ),
        "recall_at": {
            str(k): v
            for k, v in metrics.recall_at_k(
                queries, query_labels, gallery, gallery_labels, (1, 5, 10)
            ).items()
        },
        "per_title": {
            name: {"precision": float(p), "recall": float(r), "queries": int(matrix[i].sum())}
            for i, (name, p, r) in enumerate(zip(names, precision, recall, strict=True))
        },
        "confusion_matrix": matrix.tolist(),
    }


def evaluate_split(
    split: Split,
    embedders: Mapping[str, Embedder],
    out_dir: Path | None = None,
    seed: int = 0,
    plots: bool = True,
) -> dict[str, Any]:
    """Gallery = train + val frames (what would be indexed); queries = test frames, clean and
    perturbed like screenshots. Figures per embedder go to `out_dir` when `plots` is set; the
    caller writes the returned report."""
    if not split.test:
        raise ValueError("the split has no test frames to evaluate on")
    gallery_samples = split.train + split.val
    gallery_labels, query_labels = split.labels(gallery_samples), split.labels(split.test)
    all_labels = np.concatenate([gallery_labels, query_labels])
    names = list(split.titles)
    by_source = all(mode == "source" for mode in split.mode.values())
    sources = [s.source or s.name for s in gallery_samples + split.test]
    report: dict[str, Any] = {"split": split.report(), "models": {}}
    gallery_colours = sample_colours(gallery_samples)
    query_colours = sample_colours(split.test, QueryAugment(1.0), seed)
    for key, embedder in embedders.items():
        gallery = embed_samples(embedder, gallery_samples)
        clean = embed_samples(embedder, split.test)
        perturbed = embed_samples(embedder, split.test, QueryAugment(1.0), seed)
        result = {
            "name": embedder.name,
            "dim": embedder.dim,
            "input_size": embedder.input_size,
            "clean_queries": score(gallery, gallery_labels, clean, query_labels, names),
            "perturbed_queries": score(gallery, gallery_labels, perturbed, query_labels, names),
            # What the server answers when the query's frame is not indexed (docs/titlehead.md).
            "title_head": title_level(
                (gallery, gallery_colours, gallery_labels),
                (perturbed, query_colours, query_labels),
                usable_thresholds(embedder.thresholds, embedder.calibration),
            ),
        }
        everything = np.concatenate([gallery, clean])
        if by_source:
            result["leave_source_out_top1"] = metrics.leave_source_out_accuracy(
                everything, all_labels, sources
            )
        if plots and out_dir is not None:
            from training.plots import plot_confusion, plot_tsne

            out_dir.mkdir(parents=True, exist_ok=True)
            matrix = np.array(result["perturbed_queries"]["confusion_matrix"])
            result["figures"] = {
                "confusion": str(
                    plot_confusion(
                        matrix,
                        names,
                        out_dir / f"confusion_{key}.png",
                        f"{key}: perturbed test queries, top-1",
                    )
                ),  # fmt: skip
                "tsne": str(
                    plot_tsne(
                        everything,
                        all_labels,
                        names,
                        out_dir / f"tsne_{key}.png",
                        f"{key}: t-SNE by title",
                        seed,
                    )
                ),  # fmt: skip
            }
        report["models"][key] = result
    return report


def baseline_embedders(
    backbone: str,
    input_size: int,
    fit: str,
    cache_dir: Path | None,
    include_random: bool = False,
    seed: int = 0,
) -> dict[str, Embedder]:
    """The untuned pretrained backbone (+ GAP + L2) at the same input size, and optionally the
    same network with random weights: the floor any training must beat."""
    pretrained = (
        load_embedder(backbone, cache_dir, input_size=input_size, runtime="keras")
        if cache_dir is not None
        else KerasEmbedder(
            embedding_head(build_backbone(backbone, input_size), backbone), backbone, fit
        )
    )
    result: dict[str, Embedder] = {"untuned": _with_fit(pretrained, fit)}
    if include_random:
        keras.utils.set_random_seed(seed)
        model = embedding_head(build_backbone(backbone, input_size, pretrained=False), "random")
        result["random"] = KerasEmbedder(model, f"{backbone}-random", fit)
    return result


def _with_fit(embedder: Embedder, fit: str) -> Embedder:
    """The baseline must fit frames to the square the same way the fine-tuned model does."""
    if isinstance(embedder, KerasEmbedder) and embedder.fit != fit:
        return KerasEmbedder(embedder.model, embedder.name, fit)
    return embedder


def evaluate(
    model_path: Path,
    data: Path | Sequence[Sample],
    out_dir: Path,
    cache_dir: Path | None = None,
    include_random: bool = False,
    plots: bool = True,
) -> dict[str, Any]:
    """Evaluate an exported embedder on the test split its training used (same fractions and
    seed, read from its metadata), beside the untuned backbone; writes figures + JSON to out_dir."""
    model_path = Path(model_path)
    meta = read_metadata(model_path)
    trained = meta.get("training", {})
    config = TrainConfig.from_dict({k: v for k, v in trained.items() if k != "method"})
    samples = scan_image_tree(Path(data)) if isinstance(data, str | Path) else list(data)
    split = split_samples(samples, config.val_fraction, config.test_fraction, config.seed)
    embedders: dict[str, Embedder] = {"fine_tuned": load_exported(model_path)}
    embedders.update(
        baseline_embedders(
            meta["backbone"], meta["input_size"], meta["fit"], cache_dir, include_random,
            config.seed,
        )
    )  # fmt: skip
    report = evaluate_split(split, embedders, Path(out_dir), config.seed, plots)
    report["model"] = str(model_path)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
    return report
