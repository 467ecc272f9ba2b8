"""The background job queue: order, progress, failures, cleanup and shutdown."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from app.jobs import JobOutcome, JobQueue, JobQueueFull, Progress


def _wait(queue: JobQueue, job_id: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = queue.status(job_id)
        assert status is not None
        if status.status in ("done", "failed"):
            return status.status
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} did not finish")


def test_a_job_reports_progress_then_its_outcome() -> None:
    queue = JobQueue()
    release = threading.Event()
    cleaned: list[str] = []

    def work(progress: Progress) -> JobOutcome:
        progress(0.5, 4)  # half done, 4 frames embedded so far
        release.wait(5)
        return JobOutcome(frames_added=7, title_id=3)

    job_id = queue.submit(work, cleanup=lambda: cleaned.append("spool"))
    deadline = time.monotonic() + 5
    while (status := queue.status(job_id)) is not None and status.progress < 0.5:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert status is not None and status.status == "running"
    assert status.frames_added == 4  # the running count shows before the job ends
    release.set()
    assert _wait(queue, job_id) == "done"
    final = queue.status(job_id)
    assert final is not None
    assert (final.frames_added, final.title_id, final.progress) == (7, 3, 1.0)
    assert cleaned == ["spool"]
    queue.close()


def test_a_raising_job_fails_alone_and_the_worker_goes_on() -> None:
    queue = JobQueue()

    def boom(_progress: Progress) -> JobOutcome:
        raise RuntimeError("disk on fire")

    failed = queue.submit(boom)
    fine = queue.submit(lambda _progress: JobOutcome(frames_added=1))
    assert _wait(queue, failed) == "failed"
    assert "disk on fire" in (queue.status(failed).error or "")
    assert _wait(queue, fine) == "done"
    assert queue.status("no-such-job") is None
    queue.close()


def test_close_fails_queued_jobs_and_cleans_their_uploads() -> None:
    queue = JobQueue()
    started, release = threading.Event(), threading.Event()
    cleaned: list[int] = []

    def slow(_progress: Progress) -> JobOutcome:
        started.set()
        release.wait(5)
        return JobOutcome(frames_added=2)

    running = queue.submit(slow, cleanup=lambda: cleaned.append(1))
    started.wait(5)
    queued = queue.submit(lambda _p: JobOutcome(frames_added=9), cleanup=lambda: cleaned.append(2))
    threading.Timer(0.2, release.set).start()
    queue.close(timeout=5)
    assert queue.status(running).status == "done"
    assert queue.status(queued).status == "failed"
    assert sorted(cleaned) == [1, 2]


def test_the_queue_is_bounded() -> None:
    queue = JobQueue(max_pending=2)
    release = threading.Event()
    cleaned: list[int] = []
    first = queue.submit(lambda _p: (release.wait(5), JobOutcome(1))[1])
    second = queue.submit(lambda _p: JobOutcome(2))
    with pytest.raises(JobQueueFull):
        queue.submit(lambda _p: JobOutcome(3), cleanup=lambda: cleaned.append(3))
    assert cleaned == [], "a refused job's uploads stay the caller's"
    release.set()
    assert (_wait(queue, first), _wait(queue, second)) == ("done", "done")
    assert queue.submit(lambda _p: JobOutcome(4))  # room again once they finished
    queue.close()


def test_outcomes_survive_a_restart_and_interrupted_jobs_fail(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite"
    queue = JobQueue(path)
    done = queue.submit(lambda _p: JobOutcome(frames_added=5, title_id=9))
    assert _wait(queue, done) == "done"
    started = threading.Event()
    running = queue.submit(lambda _p: (started.set(), time.sleep(30), JobOutcome(1))[2])
    started.wait(5)
    queued = queue.submit(lambda _p: JobOutcome(1))
    # The process dies here (kill -9): no close(), the worker never finishes.
    reopened = JobQueue(path)
    finished = reopened.status(done)
    assert finished is not None
    assert (finished.status, finished.frames_added, finished.title_id) == ("done", 5, 9)
    for job_id in (running, queued):
        job = reopened.status(job_id)
        assert job is not None and job.status == "failed" and job.frames_added == 0
        assert "stopped while this job ran" in (job.error or "")
    reopened.close()
