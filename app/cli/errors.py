"""Which exceptions are the user's to fix, and the one line that tells them how."""

from __future__ import annotations

import errno
import shutil
import sys
from pathlib import Path

from pydantic import ValidationError

_NEARLY_FULL_BYTES = 1 << 20


class CliError(Exception):
    """A problem the user can fix (bad path, unknown title, taken port); printed as one line."""


def user_error_message(error: BaseException) -> str | None:
    """One line for an error the user can act on, or None for a bug (which keeps its traceback)."""
    if isinstance(error, CliError):
        return str(error)
    if isinstance(error, ValidationError):
        return "invalid setting: " + "; ".join(_describe(item) for item in error.errors())
    if _is_disk_full(error):
        return "no space left on device: free some disk space or use another --data-dir"
    if isinstance(error, OSError) and error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"permission denied: {error.filename or error}"
    if isinstance(error, FileNotFoundError):
        return f"no such file or directory: {error.filename or error}"
    for module_name, class_name in _LIBRARY_USER_ERRORS:
        cls = getattr(sys.modules.get(module_name), class_name, None)
        if isinstance(cls, type) and isinstance(error, cls):
            return str(error)
    return None


# Errors raised by our own packages that already carry a message written for people. They are
# looked up only if their module was imported, so `--help` never pays for loading TensorFlow.
_LIBRARY_USER_ERRORS = (
    ("index.errors", "StoreError"),
    ("index.ingest.readers", "UnreadableMediaError"),
    ("model.registry", "UnknownEmbedderError"),
    ("model.registry", "ModelNotConvertedError"),
    ("model.builtin", "BackboneError"),
    ("model.litert", "LiteRTModelError"),
    ("model.convert", "ConversionError"),
    ("model.exported", "ExportError"),
    ("PIL", "UnidentifiedImageError"),
)


def disk_full_hint(data_dir: Path) -> str | None:
    """Say so when the disk holding the data dir is (nearly) full: then it is why writes failed,
    whatever shape the failure took (some writers only notice a short file, not ENOSPC)."""
    existing = next((p for p in (data_dir, *data_dir.absolute().parents) if p.exists()), None)
    if existing is None:
        return None
    try:
        free = shutil.disk_usage(existing).free
    except OSError:
        return None
    if free >= _NEARLY_FULL_BYTES:
        return None
    return (
        f"no space left on the disk holding {data_dir} ({free // 1024} KiB free): "
        "free some disk space or use another --data-dir"
    )


def _is_disk_full(error: BaseException) -> bool:
    """ENOSPC anywhere in the chain of causes (SQLite reports it as 'database or disk is full')."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno == errno.ENOSPC:
            return True
        if "disk is full" in str(current) or "No space left" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _describe(item: dict) -> str:
    field = ".".join(str(part) for part in item.get("loc", ())) or "value"
    return f"SHAZAM_{field.upper()} / --{field.replace('_', '-')}: {item.get('msg', 'invalid')}"
