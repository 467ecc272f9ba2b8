"""IndexState: the vector index and the model its vectors come from, swapped as one."""

from __future__ import annotations

from dataclasses import dataclass

from index.store.backend import VectorIndex
from index.store.checkpoint import CheckpointIdentity


@dataclass(frozen=True, slots=True)
class IndexState:
    """Index and the model its vectors come from, swapped as one by a re-embed."""

    vectors: VectorIndex
    model_name: str
    dim: int
    generation: int

    @property
    def identity(self) -> CheckpointIdentity:
        return CheckpointIdentity(
            dim=self.dim, model_name=self.model_name, generation=self.generation
        )
