"""The one interface every backbone implements, so index/ and app/ never care which model runs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from model.fit import fit_batch

DEFAULT_CHUNK = 32  # images per model call: bounds memory for a long list, keeps batching gains


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
    # What those thresholds were measured on and gave, as stored with them (e.g. which title
    # gate they were chosen for); None when the model carries no calibration.
    calibration: dict[str, Any] | None = None
    # Names these exact weights (a hash: built-in weights or the exported file), for what is
    # derived from them and cached; None for a model built in memory.
    cache_key: str | None = None

    @abstractmethod
    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Return float32 (len(images), dim), each row of unit L2 norm."""


class ArrayEmbedder(Embedder):
    """An embedder over a forward pass of float32 (n, S, S, 3) RGB 0..255 tensors: fitting,
    chunking and normalisation written once for every runtime (Keras, LiteRT)."""

    fit: str
    chunk_size: int = DEFAULT_CHUNK

    @abstractmethod
    def _forward(self, batch: np.ndarray) -> np.ndarray:
        """Raw (n, dim) outputs for one chunk of at most `chunk_size` rows; thread-safe."""

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Fit each image to the input square (see `model.fit`), then embed in chunks.

        Fitting chunk by chunk keeps memory bounded for long lists (a float32 224px input is
        600 KB per image).
        """
        images = list(images)
        out = np.empty((len(images), self.dim), np.float32)
        for start in range(0, len(images), self.chunk_size):
            chunk = fit_batch(images[start : start + self.chunk_size], self.input_size, self.fit)
            out[start : start + len(chunk)] = self.embed_array(chunk)
        return out

    def embed_array(self, batch: np.ndarray) -> np.ndarray:
        """Embed prepared float32 (n, S, S, 3) RGB 0..255 tensors; rows of unit L2 norm."""
        batch = np.asarray(batch, dtype=np.float32)
        expected = (self.input_size, self.input_size, 3)
        if batch.ndim != 4 or batch.shape[1:] != expected:
            raise ValueError(f"expected (n, {', '.join(map(str, expected))}), got {batch.shape}")
        out = np.empty((len(batch), self.dim), np.float32)
        for start in range(0, len(batch), self.chunk_size):
            chunk = batch[start : start + self.chunk_size]
            out[start : start + len(chunk)] = self._forward(chunk)
        # Normalise here too: an exported model may lack the norm layer, and the contract
        # (unit rows) must hold for every embedder; an all-zero row stays zero, never NaN
        # (LiteRT's L2 normalisation turns a zero row into NaN).
        np.nan_to_num(out, copy=False, nan=0.0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)
