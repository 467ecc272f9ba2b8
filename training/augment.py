"""Query-like augmentation: the same crops, bars, subtitles, tints and player windows users send."""

from __future__ import annotations

import random
from collections.abc import Mapping

import numpy as np
from PIL import Image

from synthetic.perturb import PERTURBATIONS, Perturbation


def default_perturbations() -> Mapping[str, Perturbation]:
    """The screenshot perturbations of `synthetic.perturb`, shared with the robustness tests."""
    return PERTURBATIONS


class QueryAugment:
    """With probability p, apply 1..max_ops distinct perturbations in random order."""

    def __init__(
        self,
        probability: float = 0.8,
        max_ops: int = 2,
        perturbations: Mapping[str, Perturbation] | None = None,
    ) -> None:
        if not 0 <= probability <= 1 or max_ops < 1:
            raise ValueError("probability must be in [0, 1] and max_ops >= 1")
        self.probability = probability
        self.max_ops = max_ops
        self.perturbations = dict(perturbations or default_perturbations())

    def __call__(self, image: Image.Image, rng: np.random.Generator) -> Image.Image:
        if rng.random() >= self.probability:
            return image
        names = sorted(self.perturbations)
        count = int(rng.integers(1, min(self.max_ops, len(names)) + 1))
        chosen = rng.choice(len(names), size=count, replace=False)
        py_rng = random.Random(int(rng.integers(2**62)))  # synthetic.perturb takes random.Random
        for index in chosen:
            image = self.perturbations[names[int(index)]](image, py_rng)
        return image
