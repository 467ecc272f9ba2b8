"""Plain records shared by the catalog, the vector store, ingestion and identification."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SourceKind = Literal["video", "images"]


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One ingested unit: a video file, or the images of one upload/folder for one episode."""

    title: str  # display name; titles match case-insensitively
    kind: SourceKind
    uri: str  # original file name or folder, for humans and error messages
    # sha256 of the file bytes (or of the sorted image hashes): makes adds idempotent
    content_hash: str
    episode: str | None = None


@dataclass(frozen=True, slots=True)
class FrameRecord:
    """One reference frame ready to store; its vector travels beside it in a numpy array."""

    # seconds from the start of the source (presentation time); None for stills
    timestamp: float | None
    content_hash: str  # hash of the decoded pixels, to skip exact duplicates
    thumbnail: bytes  # JPEG, ~384 px wide: shown in answers and used by `index reembed`


@dataclass(frozen=True, slots=True)
class Hit:
    """A nearest reference frame for a query vector."""

    frame_id: int
    title_id: int
    title: str
    source_id: int
    episode: str | None
    timestamp: float | None
    similarity: float  # cosine similarity in [-1, 1]


@dataclass(frozen=True, slots=True)
class LabelledFrame:
    """A stored frame with its labels, for training from the catalog (`iter_labelled_frames`)."""

    frame_id: int
    title_id: int
    title: str
    source_id: int
    episode: str | None
    timestamp: float | None
    thumbnail: bytes = field(repr=False)  # JPEG, as stored


@dataclass(frozen=True, slots=True)
class TitleInfo:
    id: int
    name: str
    frames: int
    episodes: int
    sources: int


@dataclass(frozen=True, slots=True)
class AddResult:
    title_id: int
    source_id: int | None  # None when the source was already present (idempotent no-op)
    frames_added: int
    frames_total: int  # frames of the title after the add


@dataclass(frozen=True, slots=True)
class StoreStats:
    titles: int
    frames: int
    dim: int
    model_name: str
    extra: dict[str, object] = field(default_factory=dict)
