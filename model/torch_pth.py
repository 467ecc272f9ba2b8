"""Read a PyTorch checkpoint into numpy without torch, refusing any pickle that could run code."""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

# torch's legacy (pre-1.6) serialisation starts with this pickled long.
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

_STORAGE_DTYPES: dict[str, np.dtype] = {
    "DoubleStorage": np.dtype("<f8"),
    "FloatStorage": np.dtype("<f4"),
    "HalfStorage": np.dtype("<f2"),
    "BFloat16Storage": np.dtype("<u2"),  # widened to float32 on materialise
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class CheckpointError(ValueError):
    """The file is not a readable PyTorch checkpoint."""


class UnsafeCheckpointError(CheckpointError):
    """The checkpoint's pickle names a global outside the allow-list; nothing was executed."""


@dataclass(frozen=True)
class _StorageType:
    name: str

    @property
    def dtype(self) -> np.dtype:
        return _STORAGE_DTYPES[self.name]


@dataclass(frozen=True)
class _StorageRef:
    key: str
    storage_type: _StorageType
    numel: int


@dataclass(frozen=True)
class _TensorRef:
    """A tensor still waiting for its storage bytes (legacy files store them after the pickle)."""

    storage: _StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *_: Any) -> _TensorRef:
    if not isinstance(storage, _StorageRef):
        raise CheckpointError("tensor rebuilt from something that is not a storage")
    return _TensorRef(storage, int(offset), tuple(map(int, size)), tuple(map(int, stride)))


def _rebuild_parameter(data: Any, *_ignored: Any) -> Any:
    return data


_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    **{("torch", name): _StorageType(name) for name in _STORAGE_DTYPES},
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only tensor-rebuild helpers, OrderedDict and storage type names."""

    def find_class(self, module: str, name: str) -> Any:
        allowed = _ALLOWED_GLOBALS.get((module, name))
        if allowed is None:
            raise UnsafeCheckpointError(
                f"checkpoint refused: its pickle references the global {module}.{name}, "
                "which is not on the allow-list of tensor-rebuild helpers"
            )
        return allowed

    def persistent_load(self, pid: Any) -> _StorageRef:
        # ('storage', type, key, location, numel[, view_metadata]) in both zip and legacy formats.
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise CheckpointError(f"unsupported persistent id in checkpoint: {pid!r:.80}")
        storage_type, key, numel = pid[1], pid[2], pid[4]
        if not isinstance(storage_type, _StorageType):
            raise CheckpointError(f"unsupported storage type in checkpoint: {storage_type!r:.80}")
        if len(pid) > 5 and pid[5] is not None:
            raise CheckpointError("storage views (legacy view_metadata) are not supported")
        return _StorageRef(str(key), storage_type, int(numel))


def _unpickle(stream: IO[bytes]) -> Any:
    try:
        return _RestrictedUnpickler(stream).load()
    except CheckpointError:
        raise
    except Exception as exc:  # any malformed pickle: say so instead of leaking pickle internals
        raise CheckpointError(f"malformed checkpoint pickle: {exc}") from exc


def _materialise(ref: _TensorRef, read_storage: Callable[[_StorageRef], np.ndarray]) -> np.ndarray:
    flat = read_storage(ref.storage)
    itemsize = flat.dtype.itemsize
    if ref.size:
        last = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride, strict=True))
        if min(ref.size) > 0 and (last >= flat.size or ref.offset < 0 or min(ref.stride) < 0):
            raise CheckpointError("tensor view reaches outside its storage")
    elif ref.offset >= flat.size:
        raise CheckpointError("scalar tensor reaches outside its storage")
    view = np.lib.stride_tricks.as_strided(
        flat[ref.offset :],
        shape=ref.size,
        strides=tuple(s * itemsize for s in ref.stride),
        writeable=False,
    )
    array = np.array(view)  # own the memory, contiguous
    if ref.storage.storage_type.name == "BFloat16Storage":
        array = (array.astype(np.uint32) << 16).view(np.float32)
    return array


def _resolve(obj: Any, read_storage: Callable[[_StorageRef], np.ndarray]) -> Any:
    if isinstance(obj, _TensorRef):
        return _materialise(obj, read_storage)
    if isinstance(obj, dict):
        return {key: _resolve(value, read_storage) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_resolve(value, read_storage) for value in obj)
    return obj


def _load_zip(path: Path) -> Any:
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pickles) != 1:
            raise CheckpointError(f"{path}: expected one data.pkl in the zip checkpoint")
        prefix = pickles[0][: -len("data.pkl")]
        with archive.open(pickles[0]) as stream:
            tree = _unpickle(io.BytesIO(stream.read()))

        def read_storage(ref: _StorageRef) -> np.ndarray:
            name = f"{prefix}data/{ref.key}"
            try:
                raw = archive.read(name)
            except KeyError as exc:
                raise CheckpointError(f"{path}: storage {name} missing") from exc
            dtype = ref.storage_type.dtype
            if len(raw) < ref.numel * dtype.itemsize:
                raise CheckpointError(f"{path}: storage {name} is truncated")
            return np.frombuffer(raw, dtype=dtype, count=ref.numel)

        return _resolve(tree, read_storage)


def _load_legacy(path: Path) -> Any:
    with open(path, "rb") as stream:
        if _unpickle(stream) != _LEGACY_MAGIC:
            raise CheckpointError(f"{path}: not a PyTorch checkpoint (bad magic number)")
        _unpickle(stream)  # protocol version
        _unpickle(stream)  # sys info (endianness, type sizes)
        tree = _unpickle(stream)
        keys = _unpickle(stream)
        if not isinstance(keys, list):
            raise CheckpointError(f"{path}: malformed storage key list")
        refs: dict[str, _StorageRef] = {}
        _collect_storages(tree, refs)
        storages: dict[str, np.ndarray] = {}
        for key in keys:
            header = stream.read(8)
            if len(header) != 8:
                raise CheckpointError(f"{path}: storage {key} is truncated")
            (numel,) = struct.unpack("<q", header)
            ref = refs.get(str(key))
            if ref is None:
                raise CheckpointError(f"{path}: storage {key} is not referenced by any tensor")
            nbytes = numel * ref.storage_type.dtype.itemsize
            raw = stream.read(nbytes)
            if len(raw) != nbytes:
                raise CheckpointError(f"{path}: storage {key} is truncated")
            storages[str(key)] = np.frombuffer(raw, dtype=ref.storage_type.dtype)

    def read_storage(ref: _StorageRef) -> np.ndarray:
        try:
            return storages[ref.key]
        except KeyError as exc:
            raise CheckpointError(f"{path}: storage {ref.key} missing") from exc

    return _resolve(tree, read_storage)


def _collect_storages(obj: Any, into: dict[str, _StorageRef]) -> None:
    if isinstance(obj, _TensorRef):
        into[obj.storage.key] = obj.storage
    elif isinstance(obj, dict):
        for value in obj.values():
            _collect_storages(value, into)
    elif isinstance(obj, list | tuple):
        for value in obj:
            _collect_storages(value, into)


def load_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """Return the checkpoint's tensors as numpy arrays keyed by parameter name.

    Handles both torch's zip format (>= 1.6) and the legacy sequential-pickle format; a
    `{"state_dict": ...}` wrapper is unwrapped.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    tree = _load_zip(path) if zipfile.is_zipfile(path) else _load_legacy(path)
    if isinstance(tree, dict) and "state_dict" in tree and isinstance(tree["state_dict"], dict):
        tree = tree["state_dict"]
    if not isinstance(tree, dict):
        raise CheckpointError(f"{path}: checkpoint holds {type(tree).__name__}, not a state dict")
    arrays = {str(k): v for k, v in tree.items() if isinstance(v, np.ndarray)}
    if not arrays:
        raise CheckpointError(f"{path}: no tensors found in checkpoint")
    return arrays
