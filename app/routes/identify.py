"""POST /identify: a screenshot (upload, URL or raw body) in, the title and scene or unknown out."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status

from app.answers import build_response
from app.config import Settings
from app.deps import IdentifierDep, MetricsDep, OffloadDep, SettingsDep, StoreDep
from app.errors import VALIDATION_RESPONSE, ApiError
from app.fetch import fetch
from app.query_media import QueryMedia, as_upload, read_query
from app.schemas import ErrorOut, IdentifyResponse
from app.uploads import UploadLimits
from index.query.identification import Identification
from index.query.identify import Identifier
from index.store.frame_store import FrameStore

router = APIRouter(tags=["identify"], responses=VALIDATION_RESPONSE)

_ERRORS = {
    400: {
        "model": ErrorOut,
        "description": "Not an image or video, damaged, no input, or a URL refused "
        "(code url_refused) or that could not be fetched (code fetch_failed).",
    },
    404: {"model": ErrorOut, "description": "title_id names no title."},
    413: {"model": ErrorOut, "description": "Over the upload size or pixel limit."},
    415: {"model": ErrorOut, "description": "Neither an image nor a video media type."},
}
# The raw-body form (`Content-Type: image/*`) beside the multipart form, for /docs.
_RAW_BODY = {
    "requestBody": {
        "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "/identify", response_model=IdentifyResponse, responses=_ERRORS, openapi_extra=_RAW_BODY
)
async def identify(
    request: Request,
    identifier: IdentifierDep,
    store: StoreDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    offload: OffloadDep,
    image: Annotated[
        UploadFile | None,
        File(description="The screenshot (JPEG, PNG, WebP...), or a video or animated GIF."),
    ] = None,
    url: Annotated[str | None, Form(description="Or: the URL of the picture.")] = None,
    url_query: Annotated[
        str | None, Query(alias="url", description="Or: the URL, as a query parameter.")
    ] = None,
    top_k: Annotated[
        int | None, Form(ge=1, le=50, description="Titles in the vote; default from settings.")
    ] = None,
    title_id: Annotated[
        int | None, Query(ge=1, description="Search only this title's frames.")
    ] = None,
    cut_borders: Annotated[
        bool, Query(description="false: search the picture as sent, no bar or player trimming.")
    ] = True,
) -> IdentifyResponse:
    """Identify the anime of a screenshot; `match` is null when nothing is close enough.

    Send the picture as the multipart field `image`, as `url` (form field or query parameter),
    or as the raw request body with `Content-Type: image/...`.
    """
    started = time.perf_counter()
    if title_id is not None and await offload(store.title, title_id) is None:
        raise ApiError(status.HTTP_404_NOT_FOUND, f"no title with id {title_id}")
    upload = await _input(request, image, url or url_query, settings, offload)
    # One hop to the worker pool for the rest (decode, the answer, the catalog reads, the JSON):
    # each hop is a thread wake-up.
    body, matched = await offload(
        _identify,
        identifier,
        store,
        settings,
        upload,
        top_k=top_k or settings.top_k,
        title_id=title_id,
        cut_borders=cut_borders,
        started=started,
        root=request.scope.get("root_path", ""),
    )
    metrics.record_identify(matched)
    # Already an `IdentifyResponse` in JSON: returned as is, not validated and encoded again.
    return Response(body, media_type="application/json")  # type: ignore[return-value]


def _identify(
    identifier: Identifier,
    store: FrameStore,
    settings: Settings,
    upload: UploadFile,
    *,
    top_k: int,
    title_id: int | None,
    cut_borders: bool,
    started: float,
    root: str,
) -> tuple[bytes, bool]:
    """The answer to one query as JSON bytes, and whether it matched; blocking."""
    query = read_query(upload, UploadLimits.of(settings))
    chosen, result = _answer(identifier, query, top_k, title_id, cut_borders)
    response = build_response(
        result,
        store,
        settings.data_dir,
        took_ms=(time.perf_counter() - started) * 1000,
        root=root,
        query=query,
        frame_index=chosen,
    )
    return response.model_dump_json(by_alias=True).encode(), result.match is not None


async def _input(
    request: Request,
    image: UploadFile | None,
    url: str | None,
    settings: SettingsDep,
    offload: OffloadDep,
) -> UploadFile:
    """The one picture of the request, whichever way it came; a 4xx for none or two."""
    declared = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = declared.startswith(("image/", "video/"))
    given = sum((image is not None, bool(url), raw))
    if given != 1:
        raise ApiError(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "image: send exactly one of: a multipart field `image`, a `url`, or an image as the "
            "raw body (Content-Type: image/...)",
            code="invalid_request",
        )
    if image is not None:
        return image
    if raw:
        return as_upload(await request.body(), declared, "body")
    fetched = await offload(
        fetch,
        url,
        # Held in memory, so the small (image) limit: a query is a screenshot or a short clip.
        max_bytes=settings.max_upload_bytes,
        timeout_s=settings.fetch_timeout_s,
        allow_private=settings.fetch_allow_private,
    )
    return as_upload(fetched.data, fetched.content_type, fetched.name)


def _answer(
    identifier: Identifier, query: QueryMedia, top_k: int, title_id: int | None, cut: bool
) -> tuple[int, Identification]:
    """Each frame of the query answered; the surest answer kept, with its frame's position."""
    answers = [
        identifier.identify(frame.image, top_k, title_id=title_id, cut_borders=cut)
        for frame in query.frames
    ]

    def sureness(index: int) -> tuple[bool, float]:
        answer = answers[index]
        if answer.match is not None:
            return True, answer.match.confidence
        return False, answer.best_similarity or -1.0

    best = max(range(len(answers)), key=sureness)
    return best, answers[best]
