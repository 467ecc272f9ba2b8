"""GET /frames/{frame_id}/thumbnail: the picture of a reference frame named in an answer."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status

from app.deps import OffloadDep, StoreDep
from app.errors import VALIDATION_RESPONSE
from app.schemas import ErrorOut, RowId

router = APIRouter(tags=["identify"], responses=VALIDATION_RESPONSE)


@router.get(
    "/frames/{frame_id}/thumbnail",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "JPEG, about 384 px wide."},
        404: {"model": ErrorOut, "description": "No frame with this id."},
    },
)
async def frame_thumbnail(frame_id: RowId, store: StoreDep, offload: OffloadDep) -> Response:
    thumbnail = await offload(store.thumbnail, frame_id)
    if thumbnail is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no frame with id {frame_id}")
    # Frames never change under an id (a re-embed keeps pixels), so clients may cache them.
    return Response(thumbnail, media_type="image/jpeg", headers={"Cache-Control": "max-age=3600"})
