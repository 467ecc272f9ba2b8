"""POST /identify: one screenshot in, the title (episode, second) or unknown out."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from app.deps import IdentifierDep, MetricsDep, OffloadDep, SettingsDep
from app.errors import VALIDATION_RESPONSE
from app.schemas import ErrorOut, IdentifyResponse
from app.uploads import UploadLimits, read_query_image

router = APIRouter(tags=["identify"], responses=VALIDATION_RESPONSE)

_ERRORS = {
    400: {"model": ErrorOut, "description": "Not an image, or damaged or truncated."},
    413: {"model": ErrorOut, "description": "Over the upload size or pixel limit."},
    415: {"model": ErrorOut, "description": "Not an image media type."},
}


@router.post("/identify", response_model=IdentifyResponse, responses=_ERRORS)
async def identify(
    image: Annotated[UploadFile, File(description="The screenshot: JPEG, PNG, WebP...")],
    identifier: IdentifierDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    offload: OffloadDep,
    top_k: Annotated[
        int | None, Form(ge=1, le=50, description="Titles in the vote; default from settings.")
    ] = None,
) -> IdentifyResponse:
    """Identify the anime of a screenshot; `match` is null when nothing is close enough."""
    started = time.perf_counter()
    picture = await offload(read_query_image, image, UploadLimits.of(settings))
    result = await offload(identifier.identify, picture, top_k or settings.top_k)
    metrics.record_identify(result.match is not None)
    return IdentifyResponse.from_identification(result, (time.perf_counter() - started) * 1000)
