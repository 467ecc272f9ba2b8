"""GET /frames/{frame_id}/thumbnail and /clip: the picture of a reference frame named in an
answer, and a short muted video of its scene when the source video was kept."""

from __future__ import annotations

import logging

import av
from fastapi import APIRouter, HTTPException, Response, status
from fastapi.responses import FileResponse

from app.answers import kept_media
from app.deps import OffloadDep, SettingsDep, StoreDep
from app.errors import VALIDATION_RESPONSE, ApiError
from app.schemas import ErrorOut, RowId
from index.clips import CLIP_SECONDS, MAX_WIDTH, clip_window, cut_clip
from index.ingest.mapper import picture_type

CLIPS_DIR = "clips"
log = logging.getLogger(__name__)

router = APIRouter(tags=["identify"], responses=VALIDATION_RESPONSE)


@router.get(
    "/frames/{frame_id}/thumbnail",
    response_class=Response,
    responses={
        200: {
            "content": {"image/webp": {}, "image/jpeg": {}},
            "description": "WebP, 192 px wide (a catalog from before schema 4: JPEG, 384 px).",
        },
        404: {"model": ErrorOut, "description": "No frame with this id."},
    },
)
async def frame_thumbnail(frame_id: RowId, store: StoreDep, offload: OffloadDep) -> Response:
    thumbnail = await offload(store.thumbnail, frame_id)
    if thumbnail is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no frame with id {frame_id}")
    # Frames never change under an id (a re-embed keeps pixels), so clients may cache them.
    return Response(
        thumbnail, media_type=picture_type(thumbnail), headers={"Cache-Control": "max-age=3600"}
    )


@router.get(
    "/frames/{frame_id}/clip",
    response_class=FileResponse,
    responses={
        200: {
            "content": {"video/mp4": {}},
            "description": f"About {CLIP_SECONDS:g} s around the frame, muted H.264, at most "
            f"{MAX_WIDTH} px wide; cut on first request, then served from DATA_DIR/{CLIPS_DIR}.",
        },
        404: {
            "model": ErrorOut,
            "description": "No frame with this id (not_found), or its video was not kept or "
            "cannot be read (no_clip).",
        },
    },
)
async def frame_clip(
    frame_id: RowId, store: StoreDep, settings: SettingsDep, offload: OffloadDep
) -> FileResponse:
    found = await offload(store.frame_source, frame_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no frame with id {frame_id}")
    timestamp, source = found
    media = kept_media(source, settings.data_dir)
    if media is None or timestamp is None:
        raise ApiError(
            status.HTTP_404_NOT_FOUND,
            f"frame {frame_id} has no preview clip: its source video was not kept",
            code="no_clip",
        )
    # Frame ids are never reused, so a clip cut once stays right for its id.
    target = settings.data_dir / CLIPS_DIR / f"{frame_id}.mp4"
    if not target.is_file():
        try:
            await offload(cut_clip, media, target, clip_window(timestamp, source.duration))
        except (av.FFmpegError, OSError, ValueError) as error:
            log.warning("cannot cut the clip of frame %s from %s: %s", frame_id, media, error)
            raise ApiError(  # the reason is logged: it names server paths
                status.HTTP_404_NOT_FOUND,
                f"frame {frame_id} has no preview clip: its video cannot be read",
                code="no_clip",
            ) from error
    return FileResponse(target, media_type="video/mp4", headers={"Cache-Control": "max-age=3600"})
