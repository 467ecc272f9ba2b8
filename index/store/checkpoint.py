"""Atomic save and verified load of the hnswlib checkpoint (`index.bin` + `index.json`)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.store.projection import Projection
from index.store.vectors import SPACE, HnswVectors
from model.files import file_sha256

INDEX_FILE = "index.bin"
META_FILE = "index.json"
FORMAT_VERSION = 1


class CheckpointError(Exception):
    """The checkpoint is missing, unreadable or describes another index: rebuild it."""


@dataclass(frozen=True, slots=True)
class CheckpointIdentity:
    """What the checkpoint must match to be reused: the catalog's model and vector generation,
    and the projection its vectors went through (None: the model's full vectors)."""

    dim: int
    model_name: str
    generation: int
    projection: Projection | None = None

    @property
    def index_dim(self) -> int:
        """The dimension of the vectors the index holds."""
        return self.dim if self.projection is None else self.projection.out_dim

    @property
    def projection_digest(self) -> str:
        return "" if self.projection is None else self.projection.digest

    def to_index(self, vectors: np.ndarray) -> np.ndarray:
        """Catalog (model) vectors as the index holds them."""
        return vectors if self.projection is None else self.projection.apply(vectors)


def labels_digest(labels: np.ndarray) -> str:
    """Order-free digest of a label set, to check the file holds exactly the recorded labels."""
    ordered = np.sort(np.asarray(labels, dtype=np.int64)).astype("<i8")
    return hashlib.sha256(ordered.tobytes()).hexdigest()


def _fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(vectors: HnswVectors, directory: Path, identity: CheckpointIdentity) -> dict:
    """Write index.bin then index.json, each via temp file + fsync + os.replace + dir fsync.

    index.json carries the sha256 of index.bin, so a crash between the two renames (or any
    later corruption) is detected at load and answered with a rebuild, never with a wrong index.
    """
    token = f"{os.getpid()}.{uuid.uuid4().hex}"
    tmp_bin = directory / f".{INDEX_FILE}.{token}.tmp"
    tmp_meta = directory / f".{META_FILE}.{token}.tmp"
    try:
        info = vectors.save_to(tmp_bin)
        size = tmp_bin.stat().st_size
        if size != info["file_size"]:
            raise OSError(f"short write of {tmp_bin}: {size} of {info['file_size']} bytes")
        _fsync_file(tmp_bin)
        meta = {
            "format": FORMAT_VERSION,
            "space": SPACE,
            "dim": identity.index_dim,
            "projection": identity.projection_digest,
            "model_name": identity.model_name,
            "generation": identity.generation,
            "M": info["m"],
            "ef_construction": info["ef_construction"],
            "capacity": info["capacity"],
            "count": int(len(info["live"])),
            "max_label": int(max(info["live"].max(initial=-1), max(info["deleted"], default=-1))),
            "labels_sha256": labels_digest(info["live"]),
            "deleted_labels": info["deleted"],
            "bin_bytes": size,
            "bin_sha256": file_sha256(tmp_bin),
            "saved_at": time.time(),
        }
        with tmp_meta.open("w", encoding="utf-8") as handle:
            json.dump(meta, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_bin, directory / INDEX_FILE)
        os.replace(tmp_meta, directory / META_FILE)
        _fsync_dir(directory)
    finally:
        for tmp in (tmp_bin, tmp_meta):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    vectors.mark_saved(int(info["changes"]))
    return meta


def read_meta(directory: Path) -> dict:
    path = directory / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CheckpointError(f"{path} is missing") from exc
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is unreadable: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
        raise CheckpointError(f"{path} has an unknown format")
    return meta


def load_checkpoint(
    directory: Path,
    identity: CheckpointIdentity,
    *,
    ef: int,
    num_threads: int | None,
) -> HnswVectors:
    """Load and verify the checkpoint; raises CheckpointError with the reason when unusable."""
    meta = read_meta(directory)
    for key, expected in (
        ("space", SPACE),
        ("dim", identity.index_dim),
        ("projection", identity.projection_digest),
        ("model_name", identity.model_name),
        ("generation", identity.generation),
    ):
        if meta.get(key, "") != expected:
            raise CheckpointError(
                f"checkpoint {key} is {meta.get(key)!r}, catalog has {expected!r}"
            )
    path = directory / INDEX_FILE
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise CheckpointError(f"{path} is missing") from exc
    if size != meta.get("bin_bytes") or file_sha256(path) != meta.get("bin_sha256"):
        raise CheckpointError(f"{path} does not match its checksum in {META_FILE}")
    try:
        deleted = {int(x) for x in meta.get("deleted_labels", [])}
        vectors = HnswVectors.load(
            path, dim=identity.index_dim, ef=ef, deleted=deleted, num_threads=num_threads
        )
    except (RuntimeError, ValueError, TypeError, MemoryError) as exc:
        raise CheckpointError(f"hnswlib could not load {path}: {exc}") from exc
    if labels_digest(vectors.live_labels()) != meta.get("labels_sha256"):
        raise CheckpointError(f"{path} holds other labels than {META_FILE} records")
    return vectors
