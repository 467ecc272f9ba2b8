"""Write torch-format checkpoints without torch, so the reader is tested on files we control."""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

_HERE = __name__.encode()


class FloatStorage:  # pickled by reference, renamed to torch.FloatStorage below
    pass


class LongStorage:
    pass


def _rebuild_tensor_v2(*args: Any) -> None:  # renamed to torch._utils._rebuild_tensor_v2
    raise AssertionError("never called: only its pickled name matters")


_STORAGES = {np.dtype("float32"): FloatStorage, np.dtype("int64"): LongStorage}


class _Storage:
    def __init__(self, key: str, data: np.ndarray) -> None:
        self.key, self.data = key, data


class _Tensor:
    def __init__(self, storage: _Storage, shape: tuple[int, ...], stride: tuple[int, ...]) -> None:
        self.storage, self.shape, self.stride = storage, shape, stride

    def __reduce__(self) -> Any:
        args = (self.storage, 0, self.shape, self.stride, False, OrderedDict())
        return _rebuild_tensor_v2, args


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, _Storage):
            return ("storage", _STORAGES[obj.data.dtype], obj.key, "cpu", obj.data.size)
        return None


def _torch_names(data: bytes) -> bytes:
    """Point our stand-in globals at torch's names (protocol 2 GLOBAL is plain text)."""
    data = data.replace(_HERE + b"\n_rebuild_tensor_v2", b"torch._utils\n_rebuild_tensor_v2")
    for cls in ("FloatStorage", "LongStorage"):
        data = data.replace(_HERE + b"\n" + cls.encode(), b"torch\n" + cls.encode())
    return data


def _dumps(obj: Any) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=2).dump(obj)
    return _torch_names(buffer.getvalue())


def _tensors(state: dict[str, np.ndarray]) -> tuple[OrderedDict, list[_Storage]]:
    """Each array becomes a tensor over its own storage; 2-D ones are stored transposed and
    rebuilt through strides, so the reader's stride handling is exercised."""
    tree: OrderedDict = OrderedDict()
    storages = []
    for i, (name, array) in enumerate(state.items()):
        if array.ndim == 2:
            flat = np.ascontiguousarray(array.T).ravel()
            stride = (1, array.shape[0])
        else:
            contiguous = array.copy(order="C")  # keeps 0-d arrays 0-d, unlike ascontiguousarray
            flat = contiguous.ravel()
            stride = tuple(s // array.itemsize for s in contiguous.strides)
        storage = _Storage(str(i), flat)
        storages.append(storage)
        tree[name] = _Tensor(storage, array.shape, stride)
    return tree, storages


def write_zip_checkpoint(path: Path, state: dict[str, np.ndarray]) -> Path:
    tree, storages = _tensors(state)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", _dumps(tree))
        for storage in storages:
            archive.writestr(f"archive/data/{storage.key}", storage.data.tobytes())
    return path


def write_legacy_checkpoint(path: Path, state: dict[str, np.ndarray]) -> Path:
    tree, storages = _tensors(state)
    sys_info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {}}
    with open(path, "wb") as stream:
        for header in (0x1950A86A20F9469CFC6C, 1001, sys_info):
            pickle.dump(header, stream, protocol=2)
        stream.write(_dumps(tree))
        pickle.dump([s.key for s in storages], stream, protocol=2)
        for storage in storages:
            stream.write(struct.pack("<q", storage.data.size))
            stream.write(storage.data.tobytes())
    return path
