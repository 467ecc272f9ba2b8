"""IndexState: the vector index and the model its vectors come from, swapped as one."""

from __future__ import annotations

from dataclasses import dataclass

from index.store.backend import VectorIndex
from index.store.checkpoint import CheckpointIdentity
from index.store.projection import Projection


@dataclass(frozen=True, slots=True)
class IndexState:
    """Index and the model its vectors come from, swapped as one by a re-embed."""

    vectors: VectorIndex
    model_name: str
    dim: int
    generation: int
    projection: Projection | None = None  # catalog vectors -> index vectors (None: as they are)

    @property
    def identity(self) -> CheckpointIdentity:
        return CheckpointIdentity(self.dim, self.model_name, self.generation, self.projection)
