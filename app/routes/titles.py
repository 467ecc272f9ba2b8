"""The catalog: add titles from images or videos without retraining, list, show and delete them."""

from __future__ import annotations

import functools
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Response, UploadFile, status
from fastapi.responses import JSONResponse

from app.auth import WRITE_ERRORS, WriteRoute, bearer_scheme
from app.deps import IngestorDep, JobsDep, OffloadDep, SettingsDep, StoreDep
from app.errors import VALIDATION_RESPONSE, ApiError
from app.jobs import JobOutcome, JobQueueFull, Progress
from app.schemas import ErrorOut, JobAccepted, RowId, TitleAdded, TitleMetaIn, TitleOut
from app.sources import drop_title_media, drop_unused, keep_videos
from app.uploads import MAX_FILES_PER_ADD, UploadLimits, new_spool_dir, spool_and_validate
from index.ingest.ingestor import Ingestor
from index.ingest.runner import IngestReport
from index.store.validate import label_text
from index.types import TitleMeta

router = APIRouter(tags=["titles"], responses=VALIDATION_RESPONSE)
write_router = APIRouter(
    tags=["titles"],
    route_class=WriteRoute,
    dependencies=[Depends(bearer_scheme)],
    responses={**VALIDATION_RESPONSE, **WRITE_ERRORS},
)

# The wait suggested when the job queue is full: one video add takes tens of seconds or more.
JOB_RETRY_AFTER_S = 60
_NOT_FOUND = {404: {"model": ErrorOut, "description": "No title with this id."}}
_ADD_ERRORS = {
    202: {"model": JobAccepted, "description": "A video is being added; poll /jobs/{job_id}."},
    400: {"model": ErrorOut, "description": "A file is not a readable image or video."},
    409: {"model": ErrorOut, "description": "These files are already in the catalog."},
    413: {"model": ErrorOut, "description": "A file is over the size or pixel limit."},
    415: {"model": ErrorOut, "description": "A file is neither an image nor a video."},
    503: {"model": ErrorOut, "description": "The job queue or the upload slots are full."},
}


@router.get("/titles", response_model=list[TitleOut])
async def list_titles(store: StoreDep, offload: OffloadDep) -> list[TitleOut]:
    """Every title with its frame, episode and source counts."""
    titles = await offload(store.titles)
    return [TitleOut.model_validate(title) for title in titles]


@router.get("/titles/{title_id}", response_model=TitleOut, responses=_NOT_FOUND)
async def get_title(title_id: RowId, store: StoreDep, offload: OffloadDep) -> TitleOut:
    title = await offload(store.title, title_id)
    if title is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no title with id {title_id}")
    return TitleOut.model_validate(title)


@write_router.post(
    "/titles",
    status_code=status.HTTP_201_CREATED,
    response_model=TitleAdded,
    responses=_ADD_ERRORS,
    # Counted as the body streams: the 33rd file part is refused before it is read.
    form_limits={"max_files": MAX_FILES_PER_ADD, "max_fields": 8},
)
async def add_title(
    name: Annotated[
        str,
        Form(
            min_length=1, max_length=200, pattern=r"\S", description="Title; matched ignoring case."
        ),
    ],
    files: Annotated[
        list[UploadFile], File(min_length=1, description="Screenshots and/or episode videos.")
    ],
    settings: SettingsDep,
    store: StoreDep,
    ingestor: IngestorDep,
    jobs: JobsDep,
    offload: OffloadDep,
    episode: Annotated[str | None, Form(max_length=100, description="Overrides names.")] = None,
    fps: Annotated[
        float | None, Form(gt=0, le=30, description="Most video frames kept per second.")
    ] = None,
) -> TitleAdded | JSONResponse:
    """Add frames to the title of this name, creating it if new; no retraining.

    Images only: added before the answer (201), searchable at once. With any video: 202 and a
    job id; the video is ingested in the background, one job at a time. Either way the add is
    all-or-nothing: if any file fails, the catalog is left exactly as it was.
    """
    # Checked before any byte is spooled; the answer gives the name back as it is stored.
    name = label_text("the title name", name)
    episode = label_text("the episode", episode, 100) if episode and episode.strip() else None
    # Spooling writes and removes up to 32 x 25 MB: disk work, kept off the event loop.
    spool_dir = await offload(new_spool_dir, settings.data_dir)
    remove_spool = functools.partial(shutil.rmtree, spool_dir, ignore_errors=True)
    try:
        spooled = await offload(
            spool_and_validate,
            files,
            spool_dir,
            UploadLimits.of(settings),
        )
    except BaseException:
        await offload(remove_spool)
        raise
    paths = [upload.path for upload in spooled]
    if settings.keep_sources:  # videos move out of the spool, to be cut into preview clips
        paths = await offload(keep_videos, spooled, settings.data_dir)
    add = functools.partial(
        _add, ingestor, name, paths, episode, fps, keep_media=settings.keep_sources
    )
    if any(upload.kind == "video" for upload in spooled):

        def cleanup() -> None:
            remove_spool()
            drop_unused(paths, store, settings.data_dir)

        try:
            job_id = jobs.submit(functools.partial(_add_job, add), cleanup=cleanup)
        except JobQueueFull as full:
            await offload(cleanup)
            raise ApiError(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                f"{full}; retry later (the server's SHAZAM_MAX_QUEUED_JOBS)",
                code="busy",
                headers={"Retry-After": str(JOB_RETRY_AFTER_S)},
            ) from None
        return JSONResponse(
            JobAccepted(job_id=job_id).model_dump(), status_code=status.HTTP_202_ACCEPTED
        )
    try:
        report = await offload(add)
    finally:
        await offload(remove_spool)
    if (failure := _failure(report)) is not None:
        raise failure
    return TitleAdded(
        title_id=report.title_id,
        name=name,
        frames_added=report.frames_added,
        frames_total=report.frames_total,
    )


@write_router.patch("/titles/{title_id}", response_model=TitleOut, responses=_NOT_FOUND)
async def update_title(
    title_id: RowId, changes: TitleMetaIn, store: StoreDep, offload: OffloadDep
) -> TitleOut:
    """Set what people know a title by: `aliases`, `anilist_id`, `mal_id`, `year`.

    Fields left out keep their value; null clears one. Answers name them at once.
    """
    title = await offload(store.title, title_id)
    if title is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no title with id {title_id}")
    current = TitleMeta(title.aliases, title.anilist_id, title.mal_id, title.year)
    sent = changes.model_dump(exclude_unset=True)
    if "aliases" in sent:
        sent["aliases"] = tuple(sent["aliases"] or ())
    updated = await offload(store.set_title_meta, title_id, replace(current, **sent))
    if updated is None:  # deleted meanwhile
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no title with id {title_id}")
    return TitleOut.model_validate(updated)


@write_router.delete(
    "/titles/{title_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND
)
async def delete_title(
    title_id: RowId, store: StoreDep, settings: SettingsDep, offload: OffloadDep
) -> Response:
    """Remove a title and its frames; it is gone from identify answers when this returns."""
    media = await offload(store.media_paths, title_id)
    if not await offload(store.remove_title, title_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no title with id {title_id}")
    await offload(drop_title_media, media, store, settings.data_dir)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _add(
    ingestor: Ingestor,
    name: str,
    paths: list[Path],
    episode: str | None,
    fps: float | None,
    progress: Progress | None = None,
    *,
    keep_media: bool,
) -> IngestReport:
    """Every add of the API, images now or a video as a job: all-or-nothing."""
    return ingestor.ingest(
        name, paths, episode=episode, fps=fps, progress=progress, atomic=True, keep_media=keep_media
    )


def _add_job(add: functools.partial[IngestReport], progress: Progress) -> JobOutcome:
    """The same add on the job's worker thread, its failure told by the poll."""
    report = add(progress=progress)
    failure = _failure(report)
    error = None if failure is None else failure.detail
    return JobOutcome(report.frames_added, title_id=report.title_id, error=error)


def _failure(report: IngestReport) -> HTTPException | None:
    """Why an add wrote nothing, as the error the API answers (or the job reports) with."""
    if report.errors:  # files were checked when uploaded, so this is rare: say which and why
        failed = "; ".join(f"{Path(error.path).name}: {error.message}" for error in report.errors)
        return HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"{len(report.errors)} file(s) could not be read, so nothing was added ({failed})",
        )
    if report.title_id is None:
        return HTTPException(
            status.HTTP_409_CONFLICT, "these files are already in the catalog under another title"
        )
    return None
