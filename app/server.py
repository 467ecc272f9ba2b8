"""Runs the API under uvicorn: one process, one worker, since the model lives in-process."""

from __future__ import annotations

import asyncio
import logging
import signal
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

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


class _HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol plus a deadline for the request line and headers, which
    uvicorn itself does not have: a client that connects and trickles (slowloris) is dropped."""

    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()  # the next request on a kept-alive connection gets its own deadline

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._expire)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expire(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn options shared by `serve` and the tests' live servers."""
    protocol = type(
        "HeaderTimeoutProtocol",
        (_HeaderTimeoutProtocol,),
        {"header_timeout": settings.header_timeout},
    )
    return {
        "http": protocol,
        # Uploads are bounded per route; a stalled client must not hold a slot for ever.
        "timeout_keep_alive": 5,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_S,
    }


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
            **server_options(settings),
        )
    except (_Terminated, KeyboardInterrupt):
        log.info("stopped; the catalog is saved before exit")
    finally:
        signal.signal(signal.SIGTERM, previous)
