"""Every training hyperparameter in one dataclass, saved with each run so it can resume."""

from __future__ import annotations

from dataclasses import Field, asdict, dataclass, field, fields
from typing import Any, Literal, get_args

from model.fit import FIT_POLICIES

Sampling = Literal["pairs", "pk"]
Mode = Literal["siamese", "head", "tail"]
FLAG = "flag"  # field metadata key: the help of a field the `train` command exposes as a flag


def flag(default: Any, help: str) -> Any:
    """A field that `shazam-anime train` offers as `--name` with this help (`app.cli.train`)."""
    return field(default=default, metadata={FLAG: help})


def flag_fields() -> list[Field]:
    """The fields exposed as command-line flags, in declaration order."""
    return [f for f in fields(TrainConfig) if FLAG in f.metadata]


@dataclass(frozen=True)
class TrainConfig:
    """Defaults suit a GPU run on a few thousand frames; tests shrink sizes and steps."""

    backbone: str = flag(
        "efficientnet-lite0", "efficientnet-lite0, efficientnet-lite1/2 or resnet50"
    )
    input_size: int = flag(224, "square network input in pixels")
    fit: str = flag("resize", "how frames become square, as at serving: resize, pad, center-crop")
    pretrained: bool = True
    embedding_dim: int = flag(512, "size of the learned embedding")
    # Unit vectors: D in [0, 2]; m = 1 pushes other titles to cos <= 0.5.
    margin: float = flag(1.0, "contrastive margin m on the Euclidean distance")

    mode: Mode = flag(
        "siamese",
        "siamese (warm-up, then fine-tune, on images) or head (only the Dense head, on frozen"
        " backbone features from its principal axes: CPU minutes; docs/titlehead.md) or tail"
        " (the last --tail-blocks blocks, the head conv and the Dense, on cached activations)",
    )
    head_decay: float = flag(1e-3, "head mode: pull of the Dense toward its start, per weight")
    tail_blocks: int = flag(1, "tail mode: the backbone's last MBConv blocks fine-tuned")
    tail_views: int = flag(2, "tail mode: perturbed views cached per frame, beside the clean one")
    sampling: Sampling = flag("pairs", "pairs (Siamese pairs) or pk (P titles x K frames)")
    batch_size: int = flag(32, "pairs per batch with pairs sampling")
    positive_fraction: float = 0.5
    cross_source_positives: bool = True  # positive partner from another episode when possible
    titles_per_batch: int = flag(8, "P with pk sampling")
    frames_per_title: int = flag(4, "K with pk sampling")
    hard_negatives: bool = True  # pk: push only the closest other-title frame per anchor
    augment_probability: float = flag(0.8, "chance a training frame is perturbed like a query")

    warmup_epochs: int = flag(2, "epochs with the backbone frozen (only the head learns)")
    finetune_epochs: int = flag(6, "epochs with the top of the backbone unfrozen")
    steps_per_epoch: int = flag(100, "batches per epoch")
    val_steps: int = flag(20, "validation batches per epoch")
    warmup_lr: float = flag(1e-3, "Adam learning rate during warm-up")
    finetune_lr: float = flag(1e-4, "Adam learning rate when fine-tuning")
    lr_decay: float = flag(0.9, "learning-rate factor per epoch within a phase")
    plateau_factor: float = 0.5  # ReduceLROnPlateau on validation loss
    plateau_patience: int = 1
    min_lr: float = 1e-6
    frozen_layers: int | None = flag(None, "first N backbone layers kept frozen when fine-tuning")
    frozen_fraction: float = flag(0.6, "share of layers frozen when --frozen-layers is unset")

    val_fraction: float = flag(0.15, "share of episodes for validation")
    test_fraction: float = flag(0.2, "share of episodes held out for testing")
    seed: int = flag(0, "random seed for split, sampling and augmentation")
    workers: int = flag(4, "image-loading threads")

    def __post_init__(self) -> None:
        problems = []
        if self.input_size < 32:
            problems.append("input_size must be >= 32")
        if self.fit not in FIT_POLICIES:
            problems.append(f"fit must be one of {', '.join(FIT_POLICIES)}")
        if self.sampling not in get_args(Sampling):
            problems.append("sampling must be 'pairs' or 'pk'")
        if self.mode not in get_args(Mode) or self.head_decay < 0:
            problems.append("mode must be 'siamese', 'head' or 'tail', and head_decay >= 0")
        if self.tail_blocks < 1 or self.tail_views < 0:
            problems.append("tail_blocks must be >= 1 and tail_views >= 0")
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
