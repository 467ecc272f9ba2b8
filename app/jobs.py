"""Background jobs (video ingestion) run one at a time on a worker thread, polled by id; a
bounded queue, with every job's outcome kept in SQLite across restarts."""

from __future__ import annotations

import logging
import queue
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "done", "failed"]
JOBS_FILE = "jobs.sqlite"  # in the data dir, beside the catalog


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


class JobQueueFull(Exception):
    """As many jobs are waiting or running as the queue takes; retry later."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    progress REAL NOT NULL,
    frames_added INTEGER NOT NULL,
    error TEXT,
    title_id INTEGER,
    created_at REAL NOT NULL
)
"""
_INTERRUPTED = "the server stopped while this job ran; nothing of it was added, add it again"


class JobQueue:
    """A single worker: ingestion is CPU-bound and writes the index, so one at a time is fastest
    and keeps identify responsive. At most `max_pending` jobs wait or run; more are refused.

    Jobs are kept in SQLite (`path`; in memory when None), so their outcome survives a restart:
    a job that was queued or running when the server stopped is reported failed at the next
    start (an add is all-or-nothing, so nothing of it is in the catalog). Progress of the
    running job is kept in memory only; the last `keep` finished jobs are kept.
    """

    def __init__(self, path: Path | None = None, max_pending: int = 8, keep: int = 1000) -> None:
        self._db = sqlite3.connect(
            ":memory:" if path is None else str(path), check_same_thread=False
        )
        self._db.execute(_SCHEMA)
        with self._db:
            self._db.execute(
                "UPDATE jobs SET status = 'failed', progress = 1.0, frames_added = 0, error = ? "
                "WHERE status IN ('queued', 'running')",
                (_INTERRUPTED,),
            )
        self._live: dict[str, Job] = {}  # queued and running jobs, as their pollers see them
        self._cleanups: dict[str, Callable[[], None]] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, Work] | None] = queue.Queue()
        self._max_pending = max_pending
        self._keep = keep
        self._closed = False
        self._worker = threading.Thread(target=self._run, name="ingest-worker", daemon=True)
        self._worker.start()

    def submit(self, work: Work, cleanup: Callable[[], None] | None = None) -> str:
        """Queue `work`; `cleanup` runs after it whatever happens (e.g. removes spooled uploads).

        JobQueueFull (nothing queued, `cleanup` not run) when `max_pending` jobs are pending."""
        job_id = secrets.token_hex(8)
        with self._lock:
            if self._closed:
                raise RuntimeError("the job queue is shut down")
            if len(self._live) >= self._max_pending:
                raise JobQueueFull(f"{len(self._live)} jobs are already queued or running")
            self._live[job_id] = Job()
            self._store(job_id, Job())
            if cleanup is not None:
                self._cleanups[job_id] = cleanup
        self._queue.put((job_id, work))
        return job_id

    def status(self, job_id: str) -> Job | None:
        with self._lock:
            live = self._live.get(job_id)
            if live is not None:
                return live
            row = self._db.execute(
                "SELECT status, progress, frames_added, error, title_id FROM jobs WHERE id = ?",
                (job_id,),
            ).fetchone()
        return None if row is None else Job(*row)

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
            # Left as running in the database: the next start reports it failed.
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
        final = Job(
            status="failed" if outcome.error else "done",
            progress=1.0,
            frames_added=outcome.frames_added,
            error=outcome.error,
            title_id=outcome.title_id,
        )
        with self._lock:
            self._live.pop(job_id, None)
            self._store(job_id, final)
            self._forget_old()
            cleanup = self._cleanups.pop(job_id, None)
        if cleanup is not None:
            try:
                cleanup()
            except Exception:
                log.exception("cleanup of job %s failed", job_id)

    def _set(self, job_id: str, **changes: object) -> None:
        with self._lock:
            job = self._live.get(job_id)
            if job is None:
                return
            changed = replace(job, **changes)  # type: ignore[arg-type]
            self._live[job_id] = changed
            if changed.status != job.status:
                self._store(job_id, changed)

    def _store(self, job_id: str, job: Job) -> None:
        """Write one job's row; the caller holds the lock."""
        with self._db:
            self._db.execute(
                "INSERT INTO jobs (id, status, progress, frames_added, error, title_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded."
                "status, progress = excluded.progress, frames_added = excluded.frames_added, "
                "error = excluded.error, title_id = excluded.title_id",
                (job_id, job.status, job.progress, job.frames_added, job.error, job.title_id,
                 time.time()),
            )  # fmt: skip

    def _forget_old(self) -> None:
        with self._db:
            self._db.execute(
                "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE status IN ('done', "
                "'failed') ORDER BY created_at DESC LIMIT -1 OFFSET ?)",
                (self._keep,),
            )
