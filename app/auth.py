"""Write access: once any key is configured, adding and deleting need a read-write key."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response, status
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer

from app.access import Caller, Gate, load_keys
from app.config import Settings
from app.errors import ApiError
from app.schemas import ErrorOut

log = logging.getLogger(__name__)

# Every write route documents the key's refusal.
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "A key is required and missing or wrong."},
    403: {"model": ErrorOut, "description": "The key is read-only."},
}

# Declares the scheme in OpenAPI (the lock at /docs); the check itself is WriteRoute's.
bearer_scheme = HTTPBearer(
    auto_error=False, description="Set SHAZAM_API_KEY or SHAZAM_API_KEYS_FILE to require it."
)


def check_write_access(request: Request) -> None:
    """401 without a key, 403 with a read-only one, once any key is configured."""
    gate: Gate = request.app.state.gate
    if not gate.writes_need_a_key:
        return
    caller: Caller = request.state.caller
    if caller.key is None:
        raise ApiError(
            status.HTTP_401_UNAUTHORIZED,
            "this write needs 'Authorization: Bearer <key>' with a read-write key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if caller.key.access != "write":
        raise ApiError(
            status.HTTP_403_FORBIDDEN,
            f"the key {caller.key.name!r} is read-only; writes need a read-write key",
        )


class WriteRoute(APIRoute):
    """Checks the key before FastAPI reads the body, so an unauthorised client cannot make the
    server receive and spool a large upload first (dependencies run only after the body)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            check_write_access(request)
            return await handler(request)

        return guarded


def has_write_key(settings: Settings) -> bool:
    return bool(load_keys(settings))


def warn_if_open(settings: Settings) -> None:
    if not has_write_key(settings):
        log.warning(
            "no API key is set: ANYONE who can reach this server can add and delete titles. "
            "Set SHAZAM_API_KEY or SHAZAM_API_KEYS_FILE before exposing it beyond localhost."
        )
