"""Bearer-key check for writes: when SHAZAM_API_KEY is set, adding and deleting need it."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response, status
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer

from app.config import Settings
from app.schemas import ErrorOut

log = logging.getLogger(__name__)

# Every write route documents the key's refusal.
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "A key is required and missing or wrong."},
}

# Declares the scheme in OpenAPI (the lock at /docs); the check itself is WriteRoute's.
bearer_scheme = HTTPBearer(auto_error=False, description="Set SHAZAM_API_KEY to require it.")


def check_write_key(settings: Settings, authorization: str | None) -> None:
    """Raise 401 unless the header carries the configured key; compared in constant time."""
    if settings.api_key is None:
        return
    scheme, _, supplied = (authorization or "").partition(" ")
    expected = settings.api_key.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(supplied.strip().encode(), expected):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="this write needs 'Authorization: Bearer <SHAZAM_API_KEY>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


class WriteRoute(APIRoute):
    """Checks the key before FastAPI reads the body, so an unauthorised client cannot make the
    server receive and spool a large upload first (dependencies run only after the body)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            check_write_key(request.app.state.settings, request.headers.get("authorization"))
            return await handler(request)

        return guarded


def has_write_key(settings: Settings) -> bool:
    return settings.api_key is not None


def warn_if_open(settings: Settings) -> None:
    if not has_write_key(settings):
        log.warning(
            "SHAZAM_API_KEY is not set: ANYONE who can reach this server can add and delete "
            "titles. Set it before exposing the server beyond localhost."
        )
