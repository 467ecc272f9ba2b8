"""Every training hyperparameter in one dataclass, saved with each run so it can resume."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, get_args

from model.fit import FIT_POLICIES

Sampling = Literal["pairs", "pk"]


@dataclass(frozen=True)
class TrainConfig:
    """Defaults suit a GPU run on a few thousand frames; tests shrink sizes and steps."""

    backbone: str = "efficientnet-lite0"
    input_size: int = 224
    fit: str = "resize"  # how a frame becomes the square input, as at serving time (model.fit)
    pretrained: bool = True
    embedding_dim: int = 512
    margin: float = 1.0  # unit vectors: D in [0, 2]; m = 1 pushes other titles to cos <= 0.5

    sampling: Sampling = "pairs"  # "pairs": Siamese pairs; "pk": P titles x K frames per batch
    batch_size: int = 32  # pairs per batch (pairs sampling)
    positive_fraction: float = 0.5
    cross_source_positives: bool = True  # positive partner from another episode when possible
    titles_per_batch: int = 8  # P (pk sampling)
    frames_per_title: int = 4  # K (pk sampling)
    hard_negatives: bool = True  # pk: push only the closest other-title frame per anchor
    augment_probability: float = 0.8  # chance a training image gets query-like perturbations

    warmup_epochs: int = 2  # backbone frozen, only the projection head learns
    finetune_epochs: int = 6  # backbone partly unfrozen
    steps_per_epoch: int = 100
    val_steps: int = 20
    warmup_lr: float = 1e-3
    finetune_lr: float = 1e-4
    lr_decay: float = 0.9  # exponential decay per epoch within a phase
    plateau_factor: float = 0.5  # ReduceLROnPlateau on validation loss
    plateau_patience: int = 1
    min_lr: float = 1e-6
    frozen_layers: int | None = None  # first N backbone layers kept frozen when fine-tuning
    frozen_fraction: float = 0.6  # used when frozen_layers is None

    val_fraction: float = 0.15
    test_fraction: float = 0.2
    seed: int = 0
    workers: int = 4  # image-loading threads

    def __post_init__(self) -> None:
        problems = []
        if self.input_size < 32:
            problems.append("input_size must be >= 32")
        if self.fit not in FIT_POLICIES:
            problems.append(f"fit must be one of {', '.join(FIT_POLICIES)}")
        if self.sampling not in get_args(Sampling):
            problems.append("sampling must be 'pairs' or 'pk'")
        if self.margin <= 0 or self.embedding_dim < 1:
            problems.append("margin and embedding_dim must be positive")
        if self.batch_size < 2 or self.titles_per_batch < 2 or self.frames_per_title < 2:
            problems.append("batch_size, titles_per_batch and frames_per_title must be >= 2")
        if self.warmup_epochs < 0 or self.finetune_epochs < 0 or self.epochs < 1:
            problems.append("epochs must be >= 0 and at least one in total")
        if self.steps_per_epoch < 1 or self.val_steps < 1 or self.workers < 1:
            problems.append("steps_per_epoch, val_steps and workers must be >= 1")
        if not 0 < self.lr_decay <= 1 or not 0 < self.plateau_factor < 1:
            problems.append("lr_decay must be in (0, 1] and plateau_factor in (0, 1)")
        if not 0 <= self.frozen_fraction <= 1 or not 0 <= self.augment_probability <= 1:
            problems.append("frozen_fraction and augment_probability must be in [0, 1]")
        if problems:
            raise ValueError("invalid training config: " + "; ".join(problems))

    @property
    def epochs(self) -> int:
        return self.warmup_epochs + self.finetune_epochs

    def frozen_layer_count(self, backbone_layers: int) -> int:
        if self.frozen_layers is not None:
            return max(0, min(self.frozen_layers, backbone_layers))
        return round(backbone_layers * self.frozen_fraction)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Known keys only, so a run dir from an older version still resumes."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})
