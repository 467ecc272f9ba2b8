"""An `Embedder` running a converted model with LiteRT: no TensorFlow in the serving process.

`model.convert` writes the `.tflite` (it needs TensorFlow, once); this module only reads it.
An interpreter is not thread-safe (one `invoke` at a time, and its input and output buffers are
its own), so calls borrow one from a small pool: a query can run while an ingestion batch runs,
and neither waits on the other's buffers. Measured in docs/serving.md.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from model.base import DEFAULT_CHUNK, ArrayEmbedder
from model.fit import DEFAULT_FIT, check_policy


class LiteRTModelError(ValueError):
    """A `.tflite` file is unreadable or not an embedding model of the expected shape."""


def default_threads() -> int:
    """One XNNPACK thread per core: the fastest single query on an idle machine."""
    return os.cpu_count() or 1


class _InterpreterPool:
    """Up to `size` interpreters over one model, each used by one thread at a time.

    One is made at once, the others on first need (each holds its own packed weights, about the
    model's size) and kept; a caller beyond `size` waits for one to come back.
    """

    def __init__(self, content: bytes, threads: int, size: int) -> None:
        self._content = content
        self._threads = threads
        self._idle: queue.LifoQueue[Interpreter] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._idle.put(self.new())  # fails here, at load, for a file that is not a model

    def new(self) -> Interpreter:
        interpreter = Interpreter(model_content=self._content, num_threads=self._threads)
        interpreter.allocate_tensors()
        return interpreter

    @contextmanager
    def borrow(self) -> Iterator[Interpreter]:
        with self._slots:
            try:
                interpreter = self._idle.get_nowait()
            except queue.Empty:
                interpreter = self.new()
            try:
                yield interpreter
            finally:
                self._idle.put(interpreter)


class LiteRTEmbedder(ArrayEmbedder):
    """Embeds with a `.tflite` taking float32 (n, S, S, 3) RGB 0..255 and giving (n, dim).

    A chunk resizes the borrowed interpreter's batch dimension to its own length (cheap with
    XNNPACK: no re-preparation), so batched ingestion keeps its batches.
    """

    def __init__(
        self,
        content: bytes,
        name: str,
        fit: str = DEFAULT_FIT,
        *,
        threads: int = 0,
        pool_size: int = 2,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> None:
        if chunk_size < 1 or pool_size < 1 or threads < 0:
            raise ValueError("chunk_size and pool_size must be positive, threads not negative")
        self.name = name
        self.fit = check_policy(fit)
        self.chunk_size = chunk_size
        self.threads = threads or default_threads()
        try:
            self._pool = _InterpreterPool(content, self.threads, pool_size)
        except (ValueError, RuntimeError) as exc:
            raise LiteRTModelError(f"{name}: not a readable LiteRT model ({exc})") from exc
        with self._pool.borrow() as first:
            (source,), (sink,) = first.get_input_details(), first.get_output_details()
        shape, out = tuple(source["shape_signature"]), tuple(sink["shape_signature"])
        if len(shape) != 4 or shape[1] != shape[2] or shape[1] < 1 or shape[3] != 3:
            raise LiteRTModelError(f"{name}: model must take (n, S, S, 3) input, got {shape}")
        if len(out) != 2 or out[1] < 1 or source["dtype"] != np.float32:
            raise LiteRTModelError(f"{name}: model must give float (n, dim) output, got {out}")
        self.input_size, self.dim = int(shape[1]), int(out[1])
        self._input, self._output = source["index"], sink["index"]

    @classmethod
    def from_file(cls, path: Path, name: str, fit: str = DEFAULT_FIT, **options) -> LiteRTEmbedder:
        try:
            content = Path(path).read_bytes()
        except OSError as exc:
            raise LiteRTModelError(f"cannot read LiteRT model {path}: {exc}") from exc
        return cls(content, name, fit, **options)

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        with self._pool.borrow() as interpreter:
            if interpreter.get_input_details()[0]["shape"][0] != len(batch):
                interpreter.resize_tensor_input(self._input, batch.shape)
                interpreter.allocate_tensors()
            interpreter.set_tensor(self._input, np.ascontiguousarray(batch))
            interpreter.invoke()
            return interpreter.get_tensor(self._output)  # a copy: safe once the pool has it back
