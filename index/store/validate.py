"""Input checks for the frame store: bad arguments become InvalidInputError before any write."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from typing import get_args

import numpy as np

from index.errors import InvalidInputError
from index.store.catalog_rows import clean_title, title_key
from index.types import COLOUR_DIM, PALETTE_DIM, FrameRecord, SourceKind, SourceRecord, TitleMeta

MAX_TITLE_CHARS = 300
MAX_ALIASES = 50
# Control, format (zero-width, bidi overrides), surrogate and private-use characters: invisible
# or able to rewrite a terminal or a page, never part of a real title.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
SOURCE_KINDS = get_args(SourceKind)


def positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or int(value) < 1:
        raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def int_id(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InvalidInputError(f"{name} must be an integer id, got {value!r}")
    return int(value)


def label_text(what: str, value: object, max_chars: int = MAX_TITLE_CHARS) -> str:
    """A title (or episode) as it will be stored: NFKC-normalised, single-spaced, non-empty, with
    no control or invisible characters (NUL, ANSI escapes, newlines, U+200B, RTL override...)."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a string")
    hidden = next((ch for ch in value if unicodedata.category(ch) in _HIDDEN_CATEGORIES), None)
    if hidden is not None:
        raise InvalidInputError(
            f"{what} contains the control or invisible character U+{ord(hidden):04X}; "
            "use printable characters only"
        )
    cleaned = clean_title(value)
    if not cleaned:
        raise InvalidInputError(f"{what} must contain a visible character")
    if len(cleaned) > max_chars:
        raise InvalidInputError(f"{what} is longer than {max_chars} characters")
    return cleaned


def model_name_text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("model_name must be a non-empty string")
    return value


def unit_vectors(vectors: object, rows: int | None, dim: int, what: str) -> np.ndarray:
    """A C-contiguous float32 (rows, dim) array with unit rows; rejects NaN, inf and zero rows."""
    try:
        data = np.asarray(vectors, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{what} must be a float array: {exc}") from exc
    if data.ndim != 2 or data.shape[1] != dim or (rows is not None and data.shape[0] != rows):
        expected = f"({rows if rows is not None else 'n'}, {dim})"
        raise InvalidInputError(f"{what} must have shape {expected}, got {data.shape}")
    if not np.isfinite(data).all():
        raise InvalidInputError(f"{what} contain NaN or infinite values")
    norms = np.linalg.norm(data, axis=1, keepdims=True)
    if (norms == 0).any():
        raise InvalidInputError(f"{what} contain all-zero rows, which have no direction")
    return np.ascontiguousarray(data / norms, dtype=np.float32)


def source_record(source: object) -> SourceRecord:
    if not isinstance(source, SourceRecord):
        raise InvalidInputError(f"source must be a SourceRecord, got {type(source).__name__}")
    label_text("the title", source.title)
    if source.kind not in SOURCE_KINDS:
        raise InvalidInputError(f"source.kind must be one of {SOURCE_KINDS}, got {source.kind!r}")
    if not isinstance(source.content_hash, str) or not source.content_hash:
        raise InvalidInputError("source.content_hash must be a non-empty string")
    if not isinstance(source.uri, str):
        raise InvalidInputError("source.uri must be a string")
    if source.episode is not None and not isinstance(source.episode, str):
        raise InvalidInputError("source.episode must be a string or None")
    if source.duration is not None and not (
        isinstance(source.duration, int | float) and math.isfinite(source.duration)
    ):
        raise InvalidInputError("source.duration must be a finite number of seconds or None")
    if source.media_path is not None and not isinstance(source.media_path, str):
        raise InvalidInputError("source.media_path must be a string or None")
    return source


def title_meta(meta: object) -> TitleMeta:
    """Aliases are trimmed non-empty names (duplicates dropped, ignoring case); ids positive."""
    if not isinstance(meta, TitleMeta):
        raise InvalidInputError(f"meta must be a TitleMeta, got {type(meta).__name__}")
    aliases: list[str] = []
    for alias in meta.aliases:
        cleaned = label_text("an alias", alias)
        if title_key(cleaned) not in {title_key(kept) for kept in aliases}:
            aliases.append(cleaned)
    if len(aliases) > MAX_ALIASES:
        raise InvalidInputError(f"at most {MAX_ALIASES} aliases")
    for name in ("anilist_id", "mal_id", "year"):
        value = getattr(meta, name)
        wrong = not isinstance(value, int) or isinstance(value, bool) or value < 1
        if value is not None and wrong:
            raise InvalidInputError(f"{name} must be a positive integer or None")
    return TitleMeta(tuple(aliases), meta.anilist_id, meta.mal_id, meta.year)


def frame_records(frames: Sequence[object]) -> list[FrameRecord]:
    checked = list(frames)
    if not checked:
        raise InvalidInputError("no frames to add")
    for pos, frame in enumerate(checked):
        if not isinstance(frame, FrameRecord):
            raise InvalidInputError(f"frame {pos} is a {type(frame).__name__}, not a FrameRecord")
        if not isinstance(frame.thumbnail, bytes | bytearray) or not frame.thumbnail:
            raise InvalidInputError(f"frame {pos} has no thumbnail bytes")
        colour = frame.colour
        if colour is not None and (
            not isinstance(colour, bytes) or len(colour) not in (PALETTE_DIM, COLOUR_DIM)
        ):  # COLOUR_DIM: the plain histogram alone, as stored before the grey one
            raise InvalidInputError(
                f"frame {pos} colour must be {PALETTE_DIM} or {COLOUR_DIM} bytes or None"
            )
        if not isinstance(frame.content_hash, str) or not frame.content_hash:
            raise InvalidInputError(f"frame {pos} has no content_hash")
        ts = frame.timestamp
        if ts is not None and (
            isinstance(ts, bool) or not isinstance(ts, int | float) or not math.isfinite(ts)
        ):
            raise InvalidInputError(f"frame {pos} timestamp must be a finite number or None")
        _check_stretch(pos, frame)
    return checked


def _check_stretch(pos: int, frame: FrameRecord) -> None:
    """A stretch is both ends or neither, finite, on a video frame, and holds the frame's time."""
    if frame.start is None and frame.end is None:
        return
    ends = (frame.start, frame.end)
    finite = all(
        isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in ends
    )
    ts = frame.timestamp
    if not finite or ts is None or not frame.start <= ts <= frame.end:  # type: ignore[operator]
        raise InvalidInputError(
            f"frame {pos} stretch must be finite start <= timestamp <= end, or None"
        )


def first_of_each_hash(frames: Sequence[FrameRecord]) -> list[int]:
    """Positions of the first frame of each content_hash: repeats within a source are dropped."""
    seen: set[str] = set()
    keep = []
    for pos, frame in enumerate(frames):
        if frame.content_hash not in seen:
            seen.add(frame.content_hash)
            keep.append(pos)
    return keep
