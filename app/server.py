"""Runs the API under uvicorn: one process, one worker, since the model lives in-process."""

from __future__ import annotations

import uvicorn

from app.config import Settings
from app.main import create_app
from app.services import Services


def run(settings: Settings, services: Services | None = None) -> None:
    """Serve until interrupted; without `services` the model and catalog load in the lifespan."""
    uvicorn.run(
        create_app(settings, services),
        host=settings.host,
        port=settings.port,
        workers=1,
        log_level="info",
        # Uploads are bounded per route; a stalled client must not hold a slot for ever.
        timeout_keep_alive=5,
    )
