"""Re-embedding: stage a new model's vectors in the catalog, then switch model and index at once."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np

from index.errors import ReembedIncompleteError, StoreError
from index.store.backend import VectorBackend
from index.store.catalog import Catalog
from index.store.checkpoint import CheckpointIdentity
from index.store.reconcile import BUILD_BATCH
from index.store.state import IndexState
from index.store.validate import model_name_text, positive_int, unit_vectors

logger = logging.getLogger(__name__)


def stage_vectors(
    catalog: Catalog, batches: Iterable[tuple[Sequence[int], np.ndarray]], dim: int
) -> None:
    """Stage each (frame ids, vectors) batch in the catalog as it comes, after clearing old ones."""
    with catalog.transaction() as tx:
        tx.clear_staged()
    for ids, vectors in batches:
        id_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        data = unit_vectors(vectors, len(id_arr), dim, "new vectors")
        with catalog.transaction() as tx:
            tx.stage_vectors(id_arr, data)


def switch_model(
    catalog: Catalog,
    old: IndexState,
    *,
    model_name: str,
    dim: int,
    backend: VectorBackend,
    install: Callable[[IndexState], None],
) -> IndexState:
    """Apply the staged vectors, the new meta and a rebuilt index in one transaction.

    Raises ReembedIncompleteError (nothing changed) unless every frame has a staged vector.
    `install` receives the new state before the commit, while the writer mutex still blocks adds
    that embedded with the old model (they check the state under that mutex); if the commit
    fails, the caller must put `old` back.
    """
    with catalog.transaction() as tx:
        missing = tx.unstaged_count()
        if missing:
            raise ReembedIncompleteError(
                f"{missing} frames got no new vector (added during the re-embed?); "
                f"the store keeps model {old.model_name!r}: run the re-embed again"
            )
        # Another model's projection does not fit the new vectors: the index holds them whole
        # until the next open offers that model's projection (`opening.claim_projection`).
        same = (model_name, dim) == (old.model_name, old.dim)
        projection = old.projection if same else None
        identity = CheckpointIdentity(dim, model_name, old.generation + 1, projection)
        new_vectors = backend.build(
            identity, tx.iter_staged(BUILD_BATCH, dim), old.vectors.live_count
        )
        tx.apply_staged()
        if not same:
            tx.set_projection(model_name, None)
        new = IndexState(new_vectors, model_name, dim, identity.generation, projection)
        tx.set_meta({"model_name": model_name, "dim": str(dim), "generation": str(new.generation)})
        install(new)
    logger.info(
        "re-embedded %d frames: model %r (dim %d) -> %r (dim %d)",
        new_vectors.live_count,
        old.model_name,
        old.dim,
        model_name,
        dim,
    )
    return new


def embedded_batches(
    frames: Iterable[tuple[list[int], list[bytes]]],
    embed: Callable[[list[bytes]], np.ndarray],
    total: int,
    progress: Callable[[int, int], None] | None,
) -> Iterator[tuple[list[int], np.ndarray]]:
    """(frame ids, new vectors) per batch of stored thumbnails, reporting (done, total)."""
    done = 0
    for ids, thumbnails in frames:
        vectors = embed(thumbnails)
        done += len(ids)
        if progress is not None:
            progress(done, total)
        yield ids, vectors


class Reembedding:
    """Mixed into `FrameStore`: switch every frame to a new model's vectors, all or nothing."""

    _catalog: Catalog
    _state: IndexState
    _backend: VectorBackend
    _revision: int

    _check_writable: Callable[[], None]
    save: Callable[[], None]
    iter_frames: Callable[[int], Iterator[tuple[list[int], list[bytes]]]]

    def replace_vectors(
        self,
        batches: Iterable[tuple[Sequence[int], np.ndarray]],
        *,
        model_name: str,
        dim: int,
    ) -> int:
        """Give every frame a vector from a new model, then switch model, dim and index at once.

        Batches are staged in the catalog as they come; the switch (vectors, meta, a rebuilt
        index) is one transaction and happens only if every frame got a vector, otherwise
        ReembedIncompleteError and the store keeps its old model. Returns the frame count.
        """
        self._check_writable()
        dim = positive_int("dim", dim)
        model_name = model_name_text(model_name)
        stage_vectors(self._catalog, batches, dim)
        old = self._state

        def install(new: IndexState) -> None:
            self._state = new

        try:
            new = switch_model(
                self._catalog,
                old,
                model_name=model_name,
                dim=dim,
                backend=self._backend,
                install=install,
            )
        except BaseException:
            self._state = old
            raise
        self._backend.retire(old.vectors)
        self._revision += 1
        try:
            self.save()
        except StoreError:
            # The switch is committed; the stale checkpoint is rebuilt at the next open.
            logger.exception("index checkpoint after the re-embed failed")
        return new.vectors.live_count

    def reembed(
        self,
        embed: Callable[[list[bytes]], np.ndarray],
        *,
        model_name: str,
        dim: int,
        batch: int = 64,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Re-embed every stored preview with `embed` (picture bytes -> (n, dim)) and switch."""
        total = self._catalog.counts()[1]
        batches = embedded_batches(self.iter_frames(batch), embed, total, progress)
        return self.replace_vectors(batches, model_name=model_name, dim=dim)
