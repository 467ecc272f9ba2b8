"""The vector index's projection for a model, fitted once on a fixed reference set.

The reference set is generated cartoon frames (`synthetic`, its own seed, never a bench's or a
catalog's), so a model's projection is the same on every machine and never moves with what a
catalog holds. It only has to keep the true nearest frames inside the index's short list (the
store re-scores that list with full vectors): measured on Big Buck Bunny frames, which are not
in it, as on generated ones (docs/compact.md). Cached beside the model; a catalog keeps a copy.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from index.store.projection import Projection, fit_projection
from model.base import Embedder

REFERENCE_SEED = 20_261_130
REFERENCE_TITLES = 20
REFERENCE_EPISODES = (1, 2)
REFERENCE_MOMENTS = 8  # per episode, spread over its first minute
REFERENCE_SIZE = (448, 252)  # past the network's input on both sides; rendering is the cost
VERSION = 1  # bump when the reference set changes: cached projections are then fitted again


def reference_frames() -> Iterator[Image.Image]:
    """The 320 generated frames the projection is fitted on, always the same."""
    from synthetic.render import render_frame
    from synthetic.titles import make_titles

    for style in make_titles(REFERENCE_TITLES, seed=REFERENCE_SEED):
        for episode in REFERENCE_EPISODES:
            for moment in np.linspace(0.0, 57.0, REFERENCE_MOMENTS).tolist():
                yield render_frame(style, episode, moment, REFERENCE_SIZE)


def reference_projection(embedder: Embedder, cache_dir: Path, dims: int) -> Projection | None:
    """`embedder`'s projection to `dims` (None when that is not fewer than it has): read from
    `cache_dir`, else fitted (~20 s on 2 cores) and cached there."""
    if not 0 < dims < embedder.dim:
        return None
    # Keyed by the weights, not the name: two exports may share a name, never a hash.
    identity = embedder.cache_key or f"{embedder.name}-{embedder.dim}"
    slug = re.sub(r"[^\w.-]+", "_", identity)
    path = Path(cache_dir) / f"projection-{slug}-{dims}-v{VERSION}.npy"
    if path.is_file():
        return Projection(np.load(path, allow_pickle=False))
    frames = list(reference_frames())
    vectors = np.concatenate(
        [embedder.embed(frames[i : i + 32]) for i in range(0, len(frames), 32)]
    )
    projection = fit_projection(vectors, dims)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with partial.open("wb") as handle:  # a file object: np.save adds no suffix to it
        np.save(handle, projection.basis, allow_pickle=False)
    os.replace(partial, path)
    return projection
