"""Plain records shared by the catalog, the vector store, ingestion and identification."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SourceKind = Literal["video", "images"]

# The colour histogram's hue x saturation x value bins (`index.query.colour`): what
# `FrameRecord.colour` holds, one byte a bin.
HUES, SATURATIONS, VALUES = 12, 3, 3
COLOUR_DIM = HUES * SATURATIONS * VALUES
# A picture's plain colour histogram, then its grey one (`index.query.colour`).
PALETTE_DIM = 2 * COLOUR_DIM


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One ingested unit: a video file, or the images of one upload/folder for one episode."""

    title: str  # display name; titles match case-insensitively
    kind: SourceKind
    uri: str  # original file name or folder, for humans and error messages
    # sha256 of the file bytes (or of the sorted image hashes): makes adds idempotent
    content_hash: str
    episode: str | None = None
    duration: float | None = None  # seconds, of a video whose length is known
    # Where the video can be read again for preview clips (absolute, or relative to the data
    # directory); None when it was not kept.
    media_path: str | None = None


@dataclass(frozen=True, slots=True)
class FrameRecord:
    """One reference frame ready to store; its vector travels beside it in a numpy array."""

    # seconds from the start of the source (presentation time); None for stills
    timestamp: float | None
    content_hash: str  # hash of the decoded pixels, to skip exact duplicates
    thumbnail: bytes  # WebP, 192 px wide (`index.ingest.mapper`); JPEG before schema 4
    # The stretch [start, end) of the video this frame stands for (`index.ingest.shots`); None
    # for stills, and where unknown (each frame then stands until the next kept one).
    start: float | None = None
    end: float | None = None
    # The full frame's colour histograms (plain, then grey), one byte a bin
    # (`index.query.colour.stored_colour`): the title head's palette; None where not computed
    # (it then reads the preview's). Frames stored before 2026-11-30 18:00 hold the plain one only.
    colour: bytes | None = None


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
    # The stretch [start, end) of its source this frame stands for: as stored at ingestion, or
    # for frames stored without one, from its own time until the next kept frame (the source's
    # duration after the last). None for stills; `end` None when the duration is unknown.
    start: float | None = None
    end: float | None = None


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
class TitleMeta:
    """What people know a title by beyond its name; every field optional."""

    aliases: tuple[str, ...] = ()
    anilist_id: int | None = None
    mal_id: int | None = None
    year: int | None = None


@dataclass(frozen=True, slots=True)
class TitleInfo:
    id: int
    name: str
    frames: int
    episodes: int
    sources: int
    aliases: tuple[str, ...] = ()
    anilist_id: int | None = None
    mal_id: int | None = None
    year: int | None = None


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """A stored source as answers describe it: its file name, length and kept media."""

    id: int
    title_id: int
    kind: SourceKind
    uri: str
    episode: str | None
    duration: float | None
    media_path: str | None


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
