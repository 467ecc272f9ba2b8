"""The catalog's vector forms: zstd int8 as written today, deflated int8 and float32 as older
catalogs hold them, all read back as the same unit vectors."""

from __future__ import annotations

import numpy as np
import zstandard

from index.store.vector_codec import ZSTD_MAGIC, pack_vectors, quantized, unpack_vectors
from tests.index.storekit import codes_and_scales, deflated, unit


def test_zstd_rows_hold_the_same_int8_codes_the_deflated_rows_held() -> None:
    vectors = unit(np.random.default_rng(0).normal(size=(20, 64)))
    codes, _ = codes_and_scales(vectors)
    blobs = pack_vectors(vectors)
    assert all(blob[:4] == ZSTD_MAGIC for blob in blobs)
    stored = [zstandard.ZstdDecompressor().decompress(blob) for blob in blobs]
    assert stored == [c.tobytes() for c in codes]


def test_all_three_forms_read_back_as_one_set_of_unit_vectors() -> None:
    vectors = unit(np.random.default_rng(1).normal(size=(9, 48)))
    codes, scales = codes_and_scales(vectors)
    # How the deflated rows were read before: codes times scale, normalised.
    before = codes * scales[:, None]
    before /= np.linalg.norm(before, axis=1, keepdims=True)
    wide = [v.astype("<f4").tobytes() for v in vectors[6:]]
    rows = list(enumerate(pack_vectors(vectors[:3]) + deflated(vectors[3:6]) + wide))
    ids, got = unpack_vectors(rows, 48)
    assert ids.tolist() == list(range(9)) and got.dtype == np.float32
    assert np.abs(got[:6] - before[:6]).max() < 1e-6  # zstd and deflated: the same vectors
    assert np.array_equal(got[6:], vectors[6:])  # float32 as it was
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    assert np.array_equal(quantized(vectors[:6]), got[:6])  # what the index is given
    with_columns = [(i, blob, "title", 7) for i, blob in rows]  # as a join's rows come
    assert np.array_equal(unpack_vectors(with_columns, 48)[1], got)


def test_a_frame_as_long_as_a_float32_vector_is_padded_and_still_reads() -> None:
    # 3 codes make a 12-byte zstd frame, the length of a 3-dim float32 vector.
    vectors = unit(np.array([[0.6, -0.8, 0.0], [0.0, 0.0, 1.0]]))
    blobs = pack_vectors(vectors)
    assert 12 not in {len(blob) for blob in blobs}
    assert np.abs(unpack_vectors(list(enumerate(blobs)), 3)[1] - vectors).max() < 0.01


def test_a_zero_vector_stays_zero() -> None:
    blobs = pack_vectors(np.zeros((1, 16), dtype=np.float32))
    assert np.array_equal(unpack_vectors([(5, blobs[0])], 16)[1], np.zeros((1, 16)))
