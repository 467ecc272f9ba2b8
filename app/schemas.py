"""Request and response bodies of the HTTP API, with the examples shown at /docs."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from app.jobs import JobState

# SQLite row ids are signed 64-bit: a larger id in a path is a 422, never an overflow (a 500).
RowId = Annotated[int, Path(ge=0, le=2**63 - 1, description="Id as listed by the API.")]

MatchView = Literal["full", "trimmed", "mirrored", "inner", "rectified"]


# Every float of an answer is rounded to 4 places: finer digits are noise, and they bloat it.
Float4 = Annotated[float, PlainSerializer(lambda value: round(value, 4), return_type=float)]
OptionalFloat4 = Annotated[
    float | None,
    PlainSerializer(
        lambda value: None if value is None else round(value, 4), return_type=float | None
    ),
]


class TitleFacts(BaseModel):
    """A title and what people know it by (set with PATCH /titles/{id})."""

    title_id: int
    title: str
    aliases: list[str] = Field(default_factory=list)
    anilist_id: int | None = None
    mal_id: int | None = None
    year: int | None = None


class SceneOut(TitleFacts):
    """A scene of a catalogued video (or a still): where the screenshot's moment lies."""

    model_config = ConfigDict(populate_by_name=True)

    episode: str | None = None
    start: OptionalFloat4 = Field(
        None,
        alias="from",
        description="Seconds: start of the scene. Each kept frame stands for the stretch of "
        "video that looks like it, so a static shot kept once is reported whole.",
    )
    at: OptionalFloat4 = Field(None, description="Seconds: the best matching frame's time.")
    end: OptionalFloat4 = Field(None, alias="to", description="Seconds: end of the scene.")
    similarity: Float4 = Field(description="Cosine similarity of the best frame, -1..1.")
    frame_id: int
    source_id: int
    source_name: str | None = Field(None, description="The file name as it was added.")
    duration: OptionalFloat4 = Field(None, description="Seconds, of the source video if known.")
    preview_url: str = Field(description="Picture of the matched frame (WebP).")
    clip_url: str | None = Field(
        None, description="A short muted MP4 of the scene; null when the video was not kept."
    )


class Match(SceneOut):
    """The identified title and, for a frame match, the episode and second where the reference
    had them. A title match has neither: no frame was close, the title model recognised it."""

    kind: Literal["frame", "title"] = Field(
        "frame",
        description="frame: a catalogued frame matched (episode, scene, timestamp); "
        "title: no frame was close, the per-title model named the title only.",
    )
    confidence: Float4 = Field(
        description="frame: vote share of the title times its best similarity; "
        "title: the title model's probability. 0..1."
    )
    frame_id: int | None = Field(None, description="The matched frame; null for a title match.")
    source_id: int | None = None
    preview_url: str | None = Field(None, description="Picture of the matched frame (WebP).")
    timestamp: OptionalFloat4 = Field(
        None, description="Seconds from the start of the episode: the matched frame's time."
    )
    view: MatchView = Field(
        "full",
        description="Which view of the screenshot found the frame: as sent (full), with bars or "
        "a player window cut off (trimmed), mirrored, a window found inside it (inner), or a "
        "screen photographed at an angle, warped upright (rectified).",
    )


class Candidate(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read from `index.query.vote.Candidate`

    title_id: int
    title: str
    confidence: Float4 = Field(description="0..1")
    votes: Float4 = Field(description="Similarity-weighted votes of the title's frames.")


class Neighbor(BaseModel):
    """One of the nearest reference frames; its picture is at /frames/{frame_id}/thumbnail."""

    model_config = ConfigDict(from_attributes=True)  # read from `index.types.Hit`

    frame_id: int
    title_id: int
    title: str
    episode: str | None = None
    timestamp: OptionalFloat4 = None
    similarity: Float4


class QueryFrameOut(BaseModel):
    """Which frame of a video or animated query gave the answer."""

    kind: Literal["animation", "video"]
    index: int = Field(description="Frame number in the query clip, from 0.")
    time: OptionalFloat4 = Field(None, description="Seconds into the query clip.")
    frames_tried: int


class IdentifyResponse(BaseModel):
    """`match` is null when nothing in the catalog is close enough (unknown)."""

    match: Match | None
    results: list[SceneOut] = Field(
        description="The best scenes across titles, best first (an opening shown in every "
        "episode gives one per episode). Listed for unknown answers too."
    )
    candidates: list[Candidate]
    neighbors: list[Neighbor]
    took_ms: Float4
    reason: str | None = Field(
        None, description="Why the answer is unknown (empty catalog, too far, ambiguous)."
    )
    reason_code: Literal["no_close_frame", "ambiguous", "empty_catalog"] | None = None
    query_frame: QueryFrameOut | None = Field(
        None, description="Set when the query was a video or an animation."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "match": {
                        "kind": "frame",
                        "title_id": 3,
                        "title": "Starlit Meadow",
                        "aliases": ["Hoshizora no Nohara"],
                        "anilist_id": 101,
                        "mal_id": None,
                        "year": 2024,
                        "episode": "02",
                        "from": 753.5,
                        "at": 754.5,
                        "to": 756.0,
                        "similarity": 0.87,
                        "frame_id": 4211,
                        "source_id": 12,
                        "source_name": "Starlit Meadow - 02.mkv",
                        "duration": 1420.0,
                        "preview_url": "/frames/4211/thumbnail",
                        "clip_url": "/frames/4211/clip",
                        "confidence": 0.91,
                        "timestamp": 754.5,
                    },
                    "results": [],
                    "candidates": [
                        {
                            "title_id": 3,
                            "title": "Starlit Meadow",
                            "confidence": 0.91,
                            "votes": 8.2,
                        },
                        {"title_id": 7, "title": "Iron Harbor", "confidence": 0.09, "votes": 0.8},
                    ],
                    "neighbors": [
                        {
                            "frame_id": 4211,
                            "title_id": 3,
                            "title": "Starlit Meadow",
                            "episode": "02",
                            "timestamp": 754.5,
                            "similarity": 0.87,
                        }
                    ],
                    "took_ms": 41.7,
                    "reason": None,
                    "reason_code": None,
                    "query_frame": None,
                }
            ]
        }
    )


class TitleAdded(BaseModel):
    """Answer to an images-only add: the frames are searchable already."""

    title_id: int
    name: str
    frames_added: int
    frames_total: int

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"title_id": 3, "name": "Starlit Meadow", "frames_added": 12, "frames_total": 940}
            ]
        }
    )


class JobAccepted(BaseModel):
    """Answer to an add with a video: poll GET /jobs/{job_id}."""

    job_id: str

    model_config = ConfigDict(json_schema_extra={"examples": [{"job_id": "5f0c2a9e1b7d4c03"}]})


class JobStatus(BaseModel):
    """A background add, read from `app.jobs.Job`."""

    status: JobState
    progress: float = Field(description="Fraction of the job done, 0..1.")
    frames_added: int = Field(
        description="While queued or running: frames read and embedded so far, not yet "
        "searchable (a job's frames are written together at the end). Once done: frames added "
        "to the catalog. 0 when failed: nothing was added."
    )
    error: str | None = None
    title_id: int | None = Field(None, description="Set once the title exists.")

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {"status": "running", "progress": 0.4, "frames_added": 310, "error": None},
                {"status": "failed", "progress": 1.0, "frames_added": 0, "error": "no frames"},
            ]
        },
    )


class TitleMetaIn(BaseModel):
    """PATCH /titles/{id}: the fields sent are replaced, the others kept; null clears one."""

    model_config = ConfigDict(extra="forbid")

    aliases: list[Annotated[str, Field(min_length=1, max_length=300)]] | None = Field(
        None, max_length=50
    )
    anilist_id: int | None = Field(None, ge=1, le=2**63 - 1)
    mal_id: int | None = Field(None, ge=1, le=2**63 - 1)
    year: int | None = Field(None, ge=1900, le=2200)


class TitleOut(BaseModel):
    id: int
    name: str
    frames: int
    episodes: int
    sources: int
    aliases: list[str] = Field(default_factory=list)
    anilist_id: int | None = None
    mal_id: int | None = None
    year: int | None = None

    model_config = ConfigDict(
        from_attributes=True,  # read from `index.types.TitleInfo`
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "name": "Starlit Meadow",
                    "frames": 940,
                    "episodes": 2,
                    "sources": 2,
                    "aliases": ["Hoshizora no Nohara"],
                    "anilist_id": 101,
                    "mal_id": None,
                    "year": 2024,
                }
            ]
        },
    )


class TitleHeadStatus(BaseModel):
    """The per-title model behind title answers; it refits in the background after changes."""

    current: bool = Field(description="Fitted on the catalog as it is now.")
    titles: int = Field(description="Titles the fitted model knows.")


class Threshold(BaseModel):
    value: float
    source: Literal["settings", "catalog", "model", "default"] = Field(
        description="A SHAZAM_ setting, the catalog's `shazam-anime calibrate`, the exported "
        "model's metadata, or the default measured for Lite0 (the first that has it wins)."
    )


class Health(BaseModel):
    status: Literal["ok"]
    titles: int
    frames: int
    model: str
    dim: int
    title_head: TitleHeadStatus
    thresholds: dict[str, Threshold] = Field(
        description="The decision thresholds in use: min_similarity, min_margin, "
        "min_title_confidence, min_title_similarity."
    )
    vector_backend: Literal["hnswlib", "milvus"]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ok",
                    "titles": 12,
                    "frames": 48210,
                    "model": "efficientnet-lite0",
                    "dim": 1280,
                    "title_head": {"current": True, "titles": 12},
                    "thresholds": {
                        "min_similarity": {"value": 0.82, "source": "default"},
                        "min_margin": {"value": 0.1, "source": "default"},
                        "min_title_confidence": {"value": 0.8, "source": "catalog"},
                        "min_title_similarity": {"value": 0.66, "source": "catalog"},
                    },
                    "vector_backend": "hnswlib",
                }
            ]
        }
    )


class IdentifyQuota(BaseModel):
    quota: int | None = Field(description="Identifies allowed per day; null: no quota.")
    used: int = Field(description="Identifies counted in the current day window.")
    remaining: int | None
    resets_at: float | None = Field(None, description="Unix time the window resets.")


class Me(BaseModel):
    """The caller as the server sees it (trace.moe's /me)."""

    key: str | None = Field(description="Name of the key sent; null when none.")
    access: Literal["anonymous", "read", "write"]
    writes_allowed: bool
    rate_limit: str | None = Field(description="Requests per client, e.g. 600/minute.")
    identify: IdentifyQuota

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key": "alice",
                    "access": "read",
                    "writes_allowed": False,
                    "rate_limit": "600/minute",
                    "identify": {"quota": 1000, "used": 12, "remaining": 988, "resets_at": 1.8e9},
                }
            ]
        }
    )


class ErrorOut(BaseModel):
    """Shape of every 4xx answer, 422 included (`app.errors`)."""

    detail: str = Field(description="What is wrong, for people.")
    code: str = Field(
        description="Stable and machine-readable: e.g. not_found, too_large, invalid_request, "
        "url_refused."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"detail": "'shot.jpg' is not a readable image", "code": "bad_request"}]
        }
    )
