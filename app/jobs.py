"""Background jobs (video ingestion) run one at a time on a worker thread, polled by id."""

from __future__ import annotations

import logging
import queue
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "done", "failed"]


@dataclass(frozen=True)
class JobOutcome:
    """What a finished piece of work reports; `error` set means it failed as a whole."""

    frames_added: int
    title_id: int | None = None
    error: str | None = None


class Progress:
    """Handed to the work so it can report how far it got and how many frames it has embedded
    so far (shown as `frames_added` while the job runs); cheap and thread-safe."""

    def __init__(self, update: Callable[[float, int], None]) -> None:
        self._update = update

    def __call__(self, fraction: float, frames: int = 0) -> None:
        self._update(min(max(fraction, 0.0), 1.0), frames)


Work = Callable[[Progress], JobOutcome]


@dataclass(frozen=True)
class Job:
    """A job as its poller sees it; `frames_added` counts frames embedded while it runs."""

    status: JobState = "queued"
    progress: float = 0.0
    frames_added: int = 0
    error: str | None = None
    title_id: int | None = None


class JobQueue:
    """A single worker: ingestion is CPU-bound and writes the index, so one at a time is fastest
    and keeps identify responsive. Jobs live in memory; the last `keep` finished ones are kept."""

    def __init__(self, keep: int = 1000) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._cleanups: dict[str, Callable[[], None]] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, Work] | None] = queue.Queue()
        self._keep = keep
        self._closed = False
        self._worker = threading.Thread(target=self._run, name="ingest-worker", daemon=True)
        self._worker.start()

    def submit(self, work: Work, cleanup: Callable[[], None] | None = None) -> str:
        """Queue `work`; `cleanup` runs after it whatever happens (e.g. removes spooled uploads)."""
        job_id = secrets.token_hex(8)
        with self._lock:
            if self._closed:
                raise RuntimeError("the job queue is shut down")
            self._jobs[job_id] = Job()
            if cleanup is not None:
                self._cleanups[job_id] = cleanup
            self._forget_old()
        self._queue.put((job_id, work))
        return job_id

    def status(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def close(self, timeout: float = 30.0) -> None:
        """Fail what has not started, let the running job finish (an add is all-or-nothing)."""
        with self._lock:
            self._closed = True
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                self._finish(item[0], JobOutcome(0, error="server stopped before the job ran"))
        self._queue.put(None)
        self._worker.join(timeout)
        if self._worker.is_alive():
            log.warning("ingest job still running after %.0f s at shutdown", timeout)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            job_id, work = item
            self._set(job_id, status="running")
            progress = Progress(
                lambda f, n, job_id=job_id: self._set(job_id, progress=f, frames_added=n)
            )
            try:
                outcome = work(progress)
            except Exception as error:  # a job never takes the worker down with it
                log.exception("job %s failed", job_id)
                outcome = JobOutcome(0, error=f"{type(error).__name__}: {error}")
            self._finish(job_id, outcome)

    def _finish(self, job_id: str, outcome: JobOutcome) -> None:
        self._set(
            job_id,
            status="failed" if outcome.error else "done",
            progress=1.0,
            frames_added=outcome.frames_added,
            error=outcome.error,
            title_id=outcome.title_id,
        )
        with self._lock:
            cleanup = self._cleanups.pop(job_id, None)
        if cleanup is not None:
            try:
                cleanup()
            except Exception:
                log.exception("cleanup of job %s failed", job_id)

    def _set(self, job_id: str, **changes: object) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                self._jobs[job_id] = replace(job, **changes)  # type: ignore[arg-type]

    def _forget_old(self) -> None:
        finished = [jid for jid, job in self._jobs.items() if job.status in ("done", "failed")]
        for job_id in finished[: max(0, len(self._jobs) - self._keep)]:
            del self._jobs[job_id]
