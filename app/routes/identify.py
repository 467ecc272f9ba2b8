"""POST /identify: one screenshot in, the title (episode, second) or unknown out."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from app.deps import IdentifierDep, MetricsDep, OffloadDep, SettingsDep
from app.schemas import Candidate, ErrorOut, IdentifyResponse, Match, Neighbor
from app.uploads import read_query_image
from index.identify import Identification

router = APIRouter(tags=["identify"])

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
    picture = await offload(
        read_query_image,
        image,
        max_bytes=settings.max_upload_bytes,
        max_pixels=settings.max_image_pixels,
    )
    result = await offload(identifier.identify, picture, top_k or settings.top_k)
    metrics.record_identify(result.match is not None)
    return to_response(result, took_ms=(time.perf_counter() - started) * 1000)


def to_response(result: Identification, took_ms: float) -> IdentifyResponse:
    match = result.match
    return IdentifyResponse(
        match=None
        if match is None
        else Match(
            title_id=match.title_id,
            title=match.title,
            confidence=match.confidence,
            similarity=match.similarity,
            episode=match.episode,
            timestamp=match.timestamp,
        ),
        candidates=[
            Candidate(
                title_id=candidate.title_id,
                title=candidate.title,
                confidence=candidate.confidence,
                votes=candidate.votes,
            )
            for candidate in result.candidates
        ],
        neighbors=[
            Neighbor(
                frame_id=hit.frame_id,
                title_id=hit.title_id,
                title=hit.title,
                episode=hit.episode,
                timestamp=hit.timestamp,
                similarity=hit.similarity,
            )
            for hit in result.neighbors
        ],
        reason=result.reason,
        took_ms=round(took_ms, 2),
    )
