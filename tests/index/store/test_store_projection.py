"""A store whose vector index holds a projection: same answers, kept by the catalog, upgrades."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.store.frame_store import FrameStore
from index.store.projection import Projection, fit_projection
from tests.index.storekit import clustered, frames, source, unit

pytestmark = pytest.mark.usefixtures("vector_backend")

DIM, DIMS = 64, 24
# One distribution: the catalog's frames, queries near them, and a reference set apart from
# them that the projection is fitted on (as a model's is fitted on generated frames).
_DATA = clustered(1400, DIM, clusters=40, seed=7, spread=0.5)
CATALOG, REFERENCE = _DATA[:1000], _DATA[1000:]
QUERIES = unit(CATALOG[::20] + 0.15 * np.random.default_rng(8).normal(size=(50, DIM)))


def projection(dims: int = DIMS, reference: np.ndarray = REFERENCE) -> Projection:
    return fit_projection(reference, dims)


def open_store(path: Path, **kwargs) -> FrameStore:
    return FrameStore.open(path, dim=DIM, model_name="m", **kwargs)


def fill(store: FrameStore) -> None:
    for part in range(4):
        rows = slice(250 * part, 250 * (part + 1))
        store.add(source(f"T{part}", f"s{part}"), frames(250, f"s{part}"), CATALOG[rows])


def answers(store: FrameStore, k: int = 10) -> tuple[list[list[int]], np.ndarray]:
    """Frame ids per query, and their similarities."""
    rows = store.search(QUERIES, k)
    return [[h.frame_id for h in row] for row in rows], np.array(
        [[h.similarity for h in row] for row in rows]
    )


def same(got: tuple, expected: tuple) -> bool:
    """Same frames in the same order, similarities equal up to float32 arithmetic."""
    return got[0] == expected[0] and np.allclose(got[1], expected[1], atol=1e-5)


def test_projection_is_an_orthonormal_basis_that_keeps_rows_unit() -> None:
    made = projection()
    assert (made.in_dim, made.out_dim) == (DIM, DIMS)
    assert np.allclose(made.basis.T @ made.basis, np.eye(DIMS), atol=1e-5)
    assert np.allclose(np.linalg.norm(made.apply(CATALOG[:5]), axis=1), 1.0)
    again = Projection.from_bytes(made.to_bytes())
    assert again.digest == made.digest and np.array_equal(again.basis, made.basis)
    assert fit_projection(REFERENCE[:10], DIMS).out_dim == 10  # never more than its samples
    with pytest.raises(ValueError, match="out_dim <= in_dim"):
        Projection(np.zeros((4, 8)))


def test_a_projected_index_answers_as_the_full_vectors_do(tmp_path: Path) -> None:
    with open_store(tmp_path / "full") as full:  # one after the other: one Milvus collection
        fill(full)
        assert full.stats().extra["index_dim"] == DIM
        expected = answers(full)
    with open_store(tmp_path / "projected", projection=projection()) as projected:
        fill(projected)
        assert projected.stats().extra["index_dim"] == DIMS
        assert same(answers(projected), expected)  # re-scored exactly from the catalog
        # The projection alone orders a short list, not the answer: it differs from exact.
        alone = projected._state.identity.to_index
        exact = np.argsort(-(QUERIES @ CATALOG.T), axis=1)[:, :10]
        approx = np.argsort(-(alone(QUERIES) @ alone(CATALOG).T), axis=1)[:, :10]
        assert not np.array_equal(exact, approx)


def test_a_catalog_keeps_the_first_projection_it_was_given(tmp_path: Path) -> None:
    first, other = projection(), projection(reference=REFERENCE[::-1][:200])
    with open_store(tmp_path, projection=first) as store:
        fill(store)
        before = answers(store)
    calls = []

    def make() -> Projection:
        calls.append(1)
        return other

    for kwargs in ({"projection": make}, {}, {"read_only": True}):
        with open_store(tmp_path, **kwargs) as store:
            assert store._state.projection.digest == first.digest
            assert same(answers(store), before)
    assert calls == []  # made only for a catalog without one


def test_an_older_catalog_takes_a_projection_and_rebuilds_its_index(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:  # as a catalog before the projection was written
        fill(store)
        before = answers(store)
        assert store.stats().extra["index_dim"] == DIM
    with open_store(tmp_path, read_only=True, projection=projection()) as reader:
        assert reader.stats().extra["index_dim"] == DIM  # a reader changes nothing
    with open_store(tmp_path, projection=projection) as store:
        stats = store.stats()
        assert (stats.extra["index_dim"], stats.extra["index_live"]) == (DIMS, 1000)
        assert same(answers(store), before)
    with open_store(tmp_path) as store:
        assert store.stats().extra["index_dim"] == DIMS and same(answers(store), before)


def test_a_reembed_to_another_model_drops_the_projection(tmp_path: Path) -> None:
    wider = unit(np.random.default_rng(9).normal(size=(1000, DIM + 16)))
    with open_store(tmp_path, projection=projection()) as store:
        fill(store)
        ids = sorted(frame for batch, _ in store.iter_frames(500) for frame in batch)
        store.replace_vectors([(ids, wider)], model_name="n", dim=DIM + 16)
        assert store._state.projection is None and store.stats().extra["index_dim"] == DIM + 16
    reference = unit(np.random.default_rng(10).normal(size=(100, DIM + 16)))
    with FrameStore.open(
        tmp_path, dim=DIM + 16, model_name="n", projection=fit_projection(reference, 8)
    ) as store:
        assert store.stats().extra["index_dim"] == 8
        assert store.search(wider[:1], 1)[0][0].frame_id == ids[0]
