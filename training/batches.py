"""Keras `PyDataset`s that turn sampled indices into image batches, loading in worker threads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
from PIL import Image

from model.fit import fit_array
from training.augment import QueryAugment
from training.config import TrainConfig
from training.data import PairSampler, PKSampler, Sample

Augment = Callable[[Image.Image, np.random.Generator], Image.Image]


class _ImageBatches(keras.utils.PyDataset):
    """Shared loading: each batch's randomness comes from (seed, epoch, batch index) only, so
    batches are reproducible whatever worker thread builds them; `fixed` batches (validation)
    ignore the epoch so validation loss is comparable from epoch to epoch."""

    def __init__(
        self,
        samples: Sequence[Sample],
        steps: int,
        input_size: int,
        fit: str,
        augment: Augment | None,
        seed: int,
        fixed: bool = False,
        workers: int = 1,
    ) -> None:
        super().__init__(workers=workers, use_multiprocessing=False)
        if steps < 1:
            raise ValueError(f"steps must be positive, got {steps}")
        self.samples = list(samples)
        self.steps = steps
        self.input_size = input_size
        self.fit = fit
        self.augment = augment
        self.seed = seed
        self.fixed = fixed
        self.epoch = 0

    def __len__(self) -> int:
        return self.steps

    def on_epoch_end(self) -> None:
        if not self.fixed:
            self.epoch += 1

    def _rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, 0 if self.fixed else self.epoch, index])

    def _images(self, indices: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        batch = np.empty((len(indices), self.input_size, self.input_size, 3), np.float32)
        for row, index in enumerate(indices):
            image = self.samples[int(index)].load()
            if self.augment is not None:
                image = self.augment(image, rng)
            batch[row] = fit_array(image, self.input_size, self.fit)
        return batch


class PairBatches(_ImageBatches):
    """((images_a, images_b), Y) batches for the Siamese model; Y=0 similar, Y=1 dissimilar."""

    def __init__(
        self, samples: Sequence[Sample], sampler: PairSampler, batch_size: int, **kw: Any
    ) -> None:
        super().__init__(samples, **kw)
        self.sampler = sampler
        self.batch_size = batch_size

    def __getitem__(self, index: int) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
        rng = self._rng(index)
        first, second, y = self.sampler.sample(self.batch_size, rng)
        return (self._images(first, rng), self._images(second, rng)), y


class PKBatches(_ImageBatches):
    """(images, title ids) batches of P titles x K frames for the in-batch contrastive loss."""

    def __init__(
        self, samples: Sequence[Sample], sampler: PKSampler, labels: np.ndarray, **kw: Any
    ) -> None:
        super().__init__(samples, **kw)
        self.sampler = sampler
        self.labels = np.asarray(labels, np.int32)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rng = self._rng(index)
        indices = self.sampler.sample(rng)
        return self._images(indices, rng), self.labels[indices]


def make_batches(
    samples: Sequence[Sample], labels: np.ndarray, config: TrainConfig, *, validation: bool
) -> PairBatches | PKBatches:
    """The batches of one split part for `config.sampling`: training batches are perturbed
    (`augment_probability`) and drawn anew each epoch; validation batches are the same every
    epoch, half of them perturbed, and their pairs balanced and not forced across sources."""
    if validation:
        augment: Augment | None = QueryAugment(0.5)
        steps, seed = config.val_steps, config.seed + 1
    else:
        probability = config.augment_probability
        augment = QueryAugment(probability) if probability > 0 else None
        steps, seed = config.steps_per_epoch, config.seed
    common: dict[str, Any] = {
        "steps": steps, "input_size": config.input_size, "fit": config.fit, "augment": augment,
        "seed": seed, "fixed": validation, "workers": config.workers,
    }  # fmt: skip
    if config.sampling == "pairs":
        sources = [s.source for s in samples]
        positives = 0.5 if validation else config.positive_fraction
        across = not validation and config.cross_source_positives
        sampler = PairSampler(labels, sources, positives, across)
        return PairBatches(samples, sampler, config.batch_size, **common)
    pk = PKSampler(labels, config.titles_per_batch, config.frames_per_title)
    return PKBatches(samples, pk, labels, **common)
