"""Errors raised by the frame store; all derive from StoreError so callers can catch one type."""

from __future__ import annotations


class StoreError(Exception):
    """Base class for every failure of the frame catalog or the vector index."""


class StoreLockedError(StoreError):
    """Another process is writing this data dir (one writer per catalog)."""


class StoreClosedError(StoreError):
    """The store was closed; open it again."""


class InvalidInputError(StoreError, ValueError):
    """Bad arguments (shape, dtype, NaN vectors, empty names); nothing was changed."""


class ModelMismatchError(StoreError):
    """The data dir holds vectors from another embedding model or dimension."""

    def __init__(
        self,
        data_dir: str,
        stored_model: str,
        stored_dim: int,
        requested_model: str,
        requested_dim: int,
    ) -> None:
        self.stored_model = stored_model
        self.stored_dim = stored_dim
        self.requested_model = requested_model
        self.requested_dim = requested_dim
        super().__init__(
            f"data dir {data_dir} holds vectors of model {stored_model!r} (dim {stored_dim}) but "
            f"model {requested_model!r} (dim {requested_dim}) was requested; run "
            "`shazam-anime index reembed` to re-embed the catalog with the new model, "
            "or use another data dir"
        )


class SchemaVersionError(StoreError):
    """The catalog was written by a newer, incompatible version of ShazamAnime."""


class ReembedIncompleteError(StoreError):
    """Some frames got no new vector, so the model switch was not made."""
