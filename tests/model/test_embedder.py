"""The default pretrained embedder as served (LiteRT): contract, model cache, chunking and
thread safety."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from model.backbones import build_backbone
from model.keras_embedder import KerasEmbedder, embedding_head
from model.litert import LiteRTEmbedder
from model.registry import UnknownEmbedderError, cache_path, load_embedder


def _photos() -> list[Image.Image]:
    sources = [skimage.data.chelsea(), skimage.data.coffee(), skimage.data.astronaut()]
    images = [Image.fromarray(a) for a in sources]
    images.append(Image.fromarray(skimage.data.camera()))  # grayscale: converted to RGB
    images.append(images[0].transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    return images


def test_embeddings_are_unit_float32_rows(lite0_embedder) -> None:
    vectors = lite0_embedder.embed(_photos())
    assert lite0_embedder.name == "efficientnet-lite0"
    assert (lite0_embedder.dim, lite0_embedder.input_size) == (1280, 224)
    assert vectors.shape == (5, 1280) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    # A mirrored cat stays far closer to the cat than the coffee cup does.
    assert similarity[0, 4] > 0.8 > similarity[0, 1]


def test_empty_input_gives_empty_matrix(lite0_embedder) -> None:
    assert lite0_embedder.embed([]).shape == (0, 1280)


def test_wrong_tensor_shape_is_refused(lite0_embedder) -> None:
    with pytest.raises(ValueError, match="expected"):
        lite0_embedder.embed_array(np.zeros((2, 100, 100, 3), np.float32))


@pytest.mark.slow
def test_cached_model_matches_a_fresh_keras_build(lite0_embedder, model_cache_dir: Path) -> None:
    assert isinstance(lite0_embedder, LiteRTEmbedder)
    assert cache_path("efficientnet-lite0", 224, model_cache_dir, ".tflite").is_file()
    fresh_model = embedding_head(build_backbone("efficientnet-lite0", 224), "efficientnet-lite0")
    fresh = KerasEmbedder(fresh_model, "efficientnet-lite0")
    cached = load_embedder("efficientnet-lite0", cache_dir=model_cache_dir)
    photos = _photos()
    cosines = (cached.embed(photos) * fresh.embed(photos)).sum(axis=1)
    assert cosines.min() >= 0.9999


def test_chunked_calls_equal_one_batch(lite0_embedder, model_cache_dir: Path) -> None:
    """Chunks of 2, 2 and 1 resize the interpreters' batch; the vectors do not change."""
    photos = _photos()
    path = cache_path("efficientnet-lite0", 224, model_cache_dir, ".tflite")
    small_chunks = LiteRTEmbedder.from_file(path, "efficientnet-lite0", chunk_size=2)
    np.testing.assert_allclose(small_chunks.embed(photos), lite0_embedder.embed(photos), atol=1e-5)


def test_concurrent_calls_give_the_sequential_results(lite0_embedder) -> None:
    photos = _photos()
    expected = [lite0_embedder.embed([p]) for p in photos]
    jobs = [photos[i % len(photos)] for i in range(16)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda p: lite0_embedder.embed([p]), jobs))
    for i, got in enumerate(results):
        np.testing.assert_allclose(got, expected[i % len(photos)], atol=1e-5)


def test_unknown_name_lists_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(UnknownEmbedderError, match="efficientnet-lite0.*resnet50"):
        load_embedder("vgg16", cache_dir=tmp_path)
