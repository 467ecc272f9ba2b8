"""An `Identification` as the API answers it: scenes with their source, title facts and URLs."""

from __future__ import annotations

from pathlib import Path

from app.query_media import QueryMedia
from app.schemas import (
    Candidate,
    IdentifyResponse,
    Match,
    Neighbor,
    QueryFrameOut,
    SceneOut,
    TitleFacts,
)
from index.query.identification import Identification
from index.query.identification import Match as FoundMatch
from index.query.scenes import Scene
from index.store.frame_store import FrameStore
from index.types import SourceInfo, TitleMeta


def kept_media(source: SourceInfo | None, data_dir: Path) -> Path | None:
    """The kept video of a source, if it has one on disk (relative paths are under data_dir)."""
    if source is None or source.kind != "video" or not source.media_path:
        return None
    path = data_dir / source.media_path
    return path if path.is_file() else None


def preview_url(root: str, frame_id: int) -> str:
    return f"{root}/frames/{frame_id}/thumbnail"


def clip_url(root: str, frame_id: int) -> str:
    return f"{root}/frames/{frame_id}/clip"


def build_response(
    result: Identification,
    store: FrameStore,
    data_dir: Path,
    *,
    took_ms: float,
    root: str = "",
    query: QueryMedia | None = None,
    frame_index: int = 0,
) -> IdentifyResponse:
    """Reads the sources and titles the answer names (one query each); blocking: offload it.

    URLs are root-relative (`root` is the app's mount path), so they work behind any host name.
    """
    scenes = list(result.scenes)
    source_ids = {scene.source_id for scene in scenes}
    title_ids = {scene.title_id for scene in scenes}
    if result.match is not None:
        if result.match.source_id is not None:
            source_ids.add(result.match.source_id)
        title_ids.add(result.match.title_id)
    sources = store.sources(source_ids)
    metas = store.title_meta(title_ids)

    def scene_fields(scene: Scene | FoundMatch) -> dict[str, object]:
        source = sources.get(scene.source_id) if scene.source_id is not None else None
        framed = scene.frame_id is not None
        has_clip = framed and scene.at is not None and kept_media(source, data_dir) is not None
        return {
            **_facts(scene.title_id, scene.title, metas.get(scene.title_id)),
            "episode": scene.episode,
            "start": scene.start,
            "at": scene.at,
            "end": scene.end,
            "similarity": scene.similarity,
            "frame_id": scene.frame_id,
            "source_id": scene.source_id,
            "source_name": None if source is None else Path(source.uri).name,
            "duration": None if source is None else source.duration,
            "preview_url": preview_url(root, scene.frame_id) if framed else None,
            "clip_url": clip_url(root, scene.frame_id) if has_clip else None,
        }

    match = None
    if result.match is not None:
        found = result.match
        fields = scene_fields(found)
        match = Match(
            **fields,
            kind=found.kind,
            confidence=found.confidence,
            timestamp=found.timestamp,
            view=found.view,
        )
    query_frame = None
    if query is not None and query.kind != "image":
        frame = query.frames[frame_index]
        query_frame = QueryFrameOut(
            kind=query.kind, index=frame.index, time=frame.time, frames_tried=len(query.frames)
        )
    return IdentifyResponse(
        match=match,
        results=[SceneOut(**scene_fields(scene)) for scene in scenes],
        candidates=[Candidate.model_validate(candidate) for candidate in result.candidates],
        neighbors=[Neighbor.model_validate(hit) for hit in result.neighbors],
        took_ms=took_ms,
        reason=result.reason,
        reason_code=result.reason_code,
        query_frame=query_frame,
    )


def _facts(title_id: int, title: str, meta: TitleMeta | None) -> dict[str, object]:
    meta = meta or TitleMeta()
    return TitleFacts(
        title_id=title_id,
        title=title,
        aliases=list(meta.aliases),
        anilist_id=meta.anilist_id,
        mal_id=meta.mal_id,
        year=meta.year,
    ).model_dump()
