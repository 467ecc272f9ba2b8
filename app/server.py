"""Runs the API under uvicorn: one process, one worker, since the model lives in-process."""

from __future__ import annotations

import logging
import signal
from types import FrameType

import uvicorn

from app.config import Settings
from app.main import create_app
from app.services import Services

log = logging.getLogger(__name__)

# Requests still running at a stop get this long; compose's stop_grace_period covers it, the
# running job's wait (app.jobs) and the final index save.
GRACEFUL_SHUTDOWN_S = 20


class _Terminated(Exception):
    """SIGTERM, re-raised by uvicorn once it has shut down: unwind so the caller saves."""


def _terminated(_signum: int, _frame: FrameType | None) -> None:
    raise _Terminated


def run(settings: Settings, services: Services | None = None) -> None:
    """Serve until SIGINT or SIGTERM; without `services` the model and catalog load in the
    lifespan. Returns normally on either signal, so the caller's `close()` saves the index
    (uvicorn re-sends the signal after its shutdown, which by default kills the process first)."""
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        uvicorn.run(
            create_app(settings, services),
            host=settings.host,
            port=settings.port,
            workers=1,
            log_level="info",
            # Uploads are bounded per route; a stalled client must not hold a slot for ever.
            timeout_keep_alive=5,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
    except (_Terminated, KeyboardInterrupt):
        log.info("stopped; the catalog is saved before exit")
    finally:
        signal.signal(signal.SIGTERM, previous)
