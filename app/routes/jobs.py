"""GET /jobs/{job_id}: progress of a background add."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from app.deps import JobsDep
from app.errors import VALIDATION_RESPONSE
from app.schemas import ErrorOut, JobStatus

router = APIRouter(tags=["titles"], responses=VALIDATION_RESPONSE)


@router.get(
    "/jobs/{job_id}",
    response_model=JobStatus,
    responses={404: {"model": ErrorOut, "description": "Unknown (or long finished) job."}},
)
async def get_job(job_id: str, jobs: JobsDep) -> JobStatus:
    job = jobs.status(job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job with id {job_id!r}")
    return JobStatus.model_validate(job)
