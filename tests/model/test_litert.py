"""LiteRT serving: conversion is checked against Keras, the cache heals, interpreters are
shared safely between threads, and a file that is not an embedding model is refused."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import keras
import numpy as np
import pytest

from model.convert import MIN_COSINE, agreement, check_inputs, checked_conversion, to_litert
from model.exported import save_exported
from model.litert import LiteRTEmbedder, LiteRTModelError
from model.registry import load_embedder
from tests.model.tiny import tiny_model

META = {"name": "tiny-v1", "backbone": "custom", "fit": "resize"}


def test_conversion_agrees_with_keras_and_a_wrong_one_is_caught() -> None:
    model, other = tiny_model(seed=1), tiny_model(seed=2)
    content = checked_conversion(model)
    assert agreement(model, content) >= MIN_COSINE
    # The same graph with other weights: the check must tell them apart.
    assert agreement(other, content) < MIN_COSINE


def test_served_vectors_equal_keras_vectors() -> None:
    model = tiny_model()
    served = LiteRTEmbedder(to_litert(model), "tiny")
    batch = check_inputs(32)
    expected = keras.ops.convert_to_numpy(model(batch))
    np.testing.assert_allclose(served.embed_array(batch), expected, atol=1e-5)
    assert (served.dim, served.input_size) == (8, 32)


def test_torn_cache_file_is_converted_again(tmp_path: Path) -> None:
    path = save_exported(tiny_model(), tmp_path / "tiny.keras", META)
    first = load_embedder(str(path), tmp_path / "cache")
    (cached,) = (tmp_path / "cache").glob("exported-*.tflite")
    cached.write_bytes(cached.read_bytes()[:100])
    again = load_embedder(str(path), tmp_path / "cache")
    batch = check_inputs(32)
    np.testing.assert_allclose(again.embed_array(batch), first.embed_array(batch), atol=1e-6)
    assert LiteRTEmbedder.from_file(cached, "healed").dim == 8  # rewritten whole


def test_one_interpreter_serialises_concurrent_callers() -> None:
    served = LiteRTEmbedder(to_litert(tiny_model()), "tiny", pool_size=1, chunk_size=3)
    rng = np.random.default_rng(0)
    batches = [rng.uniform(0, 255, (n, 32, 32, 3)).astype(np.float32) for n in (1, 2, 5, 7) * 4]
    expected = [served.embed_array(b) for b in batches]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(served.embed_array, batches))
    for got, want in zip(results, expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_files_that_are_not_embedding_models_are_refused(tmp_path: Path) -> None:
    with pytest.raises(LiteRTModelError, match="not a readable LiteRT model"):
        LiteRTEmbedder(b"\x00" * 64, "garbage")
    with pytest.raises(LiteRTModelError, match="cannot read"):
        LiteRTEmbedder.from_file(tmp_path / "absent.tflite", "absent")
    inputs = keras.Input((32, 32, 3))
    feature_map = keras.Model(inputs, keras.layers.Conv2D(4, 3)(inputs))  # no pooling: 4-D out
    with pytest.raises(LiteRTModelError, match=r"\(n, dim\) output"):
        LiteRTEmbedder(to_litert(feature_map), "feature-map")


def test_a_zero_output_is_a_zero_row_not_nan() -> None:
    """A flat grey image gives this model all-zero features; LiteRT's L2 norm makes them NaN."""
    served = LiteRTEmbedder(to_litert(tiny_model(seed=1)), "tiny")
    grey = np.full((1, 32, 32, 3), 128.0, np.float32)
    assert not served.embed_array(grey).any()
