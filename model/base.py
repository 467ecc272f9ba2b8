"""The one interface every backbone implements, so index/ and app/ never care which model runs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
from PIL import Image


class Embedder(ABC):
    """Maps PIL images to L2-normalised float32 vectors of shape (n, dim).

    Implementations must be safe to call from several threads at once (the server embeds
    queries while a background job embeds a video).
    """

    name: str  # e.g. "efficientnet-lite0"; stored with the index so a mismatched model is refused
    dim: int
    input_size: int  # square side in pixels fed to the network
    # Decision thresholds calibrated for this model (min_similarity, min_margin,
    # min_title_confidence, min_title_similarity); None: the defaults measured for Lite0 apply.
    thresholds: dict[str, float] | None = None

    @abstractmethod
    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Return float32 (len(images), dim), each row of unit L2 norm."""
