"""Who is calling and what they may do: API keys (read or write) from settings or a file,
per-client rate limits, identify quotas per caller, and a cap on uploads in flight.

Counters live in memory (the `limits` library): they restart with the server. A caller is its
key's name when it sends a known key, else its IP address.
"""

from __future__ import annotations

import hmac
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from pydantic import BaseModel, Field, SecretStr, TypeAdapter, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.errors import error_response

Access = Literal["read", "write"]
# Checked, limited and counted; the page, its assets, /docs, /health and /metrics are not.
GUARDED_PREFIXES = ("/identify", "/titles", "/frames", "/jobs", "/me")
UPLOAD_PATHS = frozenset({"/identify", "/titles"})


class ApiKey(BaseModel):
    """One entry of SHAZAM_API_KEYS_FILE (a JSON list of these)."""

    name: str = Field(min_length=1, max_length=100)
    key: SecretStr = Field(min_length=1)
    access: Access = "read"
    identify_per_day: int | None = Field(
        None, ge=0, description="Identify quota of this key; default SHAZAM_IDENTIFY_QUOTA."
    )


class KeyFileError(ValueError):
    """The keys file is missing or malformed; `serve` reports it in one line."""


def load_keys(settings: Settings) -> list[ApiKey]:
    """SHAZAM_API_KEY (read-write, named "default") plus every key of SHAZAM_API_KEYS_FILE."""
    keys = []
    if settings.api_key is not None:
        keys.append(ApiKey(name="default", key=settings.api_key, access="write"))
    if settings.api_keys_file is not None:
        keys.extend(_read_key_file(settings.api_keys_file))
    return keys


def _read_key_file(path: Path) -> list[ApiKey]:
    try:
        entries = TypeAdapter(list[ApiKey]).validate_python(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError, ValidationError) as error:
        raise KeyFileError(f"cannot read the API keys file {path}: {error}") from error
    names = [entry.name for entry in entries]
    if len(set(names)) != len(names):
        raise KeyFileError(f"the API keys file {path} names a key twice")
    return entries


@dataclass(frozen=True)
class Caller:
    key: ApiKey | None
    address: str

    @property
    def ident(self) -> str:
        return f"key:{self.key.name}" if self.key is not None else f"ip:{self.address}"


@dataclass(frozen=True)
class Usage:
    quota: int | None
    used: int
    resets_at: float | None


class Gate:
    """The keys, the limiters and the upload count of one app."""

    def __init__(self, settings: Settings) -> None:
        self.keys = load_keys(settings)
        self.require_key_for_reads = settings.require_key_for_reads
        self.max_uploads = settings.max_concurrent_uploads
        self.uploads_in_flight = 0
        self.rate_limit = settings.rate_limit or None
        self._rate = parse(settings.rate_limit) if settings.rate_limit else None
        self._default_quota = settings.identify_quota or None
        storage = MemoryStorage()
        self._moving = MovingWindowRateLimiter(storage)
        self._fixed = FixedWindowRateLimiter(storage)

    @property
    def writes_need_a_key(self) -> bool:
        return bool(self.keys)

    def find_key(self, authorization: str | None) -> ApiKey | None:
        """The key a `Bearer` header carries, compared in constant time against each."""
        scheme, _, supplied = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        given = supplied.strip().encode()
        found = None
        for key in self.keys:
            if hmac.compare_digest(given, key.key.get_secret_value().encode()):
                found = key
        return found

    def rate_retry_after(self, caller: Caller) -> int | None:
        """None when the caller may go on, else the seconds to wait."""
        if self._rate is None or self._moving.hit(self._rate, caller.ident):
            return None
        return _seconds_until(self._moving.get_window_stats(self._rate, caller.ident).reset_time)

    def _quota_item(self, caller: Caller) -> RateLimitItem | None:
        own = caller.key.identify_per_day if caller.key is not None else None
        quota = own if own is not None else self._default_quota
        return parse(f"{quota}/day") if quota else None

    def take_identify(self, caller: Caller) -> int | None:
        """Count one identify against the caller's quota: None if allowed, else seconds to wait."""
        item = self._quota_item(caller)
        if item is None or self._fixed.hit(item, "identify", caller.ident):
            return None
        reset = self._fixed.get_window_stats(item, "identify", caller.ident).reset_time
        return _seconds_until(reset)

    def usage(self, caller: Caller) -> Usage:
        item = self._quota_item(caller)
        if item is None:
            return Usage(quota=None, used=0, resets_at=None)
        stats = self._fixed.get_window_stats(item, "identify", caller.ident)
        return Usage(
            quota=item.amount, used=item.amount - stats.remaining, resets_at=stats.reset_time
        )


def _seconds_until(moment: float) -> int:
    return max(1, math.ceil(moment - time.time()))


class AccessMiddleware:
    """Runs before routing and before any body is read: unknown keys, missing read keys, rate
    limits, quotas and the upload cap are answered here, so refused work costs nothing."""

    def __init__(self, app: ASGIApp, gate: Gate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(GUARDED_PREFIXES):
            await self.app(scope, receive, send)
            return
        gate = self.gate
        authorization = _header(scope, b"authorization")
        key = gate.find_key(authorization)
        caller = Caller(key, (scope.get("client") or ("unknown", 0))[0])
        refusal = None
        if authorization is not None and key is None and gate.keys:
            refusal = error_response(
                401, "unknown API key", "unauthorized", {"WWW-Authenticate": "Bearer"}
            )
        elif gate.require_key_for_reads and key is None:
            refusal = error_response(
                401,
                "this server needs 'Authorization: Bearer <key>' for every request",
                "unauthorized",
                {"WWW-Authenticate": "Bearer"},
            )
        elif (wait := gate.rate_retry_after(caller)) is not None:
            refusal = _too_many(f"rate limit reached; retry in {wait} s", "rate_limited", wait)
        elif path == "/identify" and scope["method"] == "POST":
            if (wait := gate.take_identify(caller)) is not None:
                message = f"daily identify quota used up; it resets in {wait} s (see GET /me)"
                refusal = _too_many(message, "quota_exceeded", wait)
        if refusal is None and path in UPLOAD_PATHS and scope["method"] == "POST":
            if gate.uploads_in_flight >= gate.max_uploads:
                refusal = error_response(
                    503,
                    f"{gate.max_uploads} uploads are already being received; retry shortly",
                    "busy",
                    {"Retry-After": "1"},
                )
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller
        if path in UPLOAD_PATHS and scope["method"] == "POST":
            gate.uploads_in_flight += 1
            try:
                await self.app(scope, receive, send)
            finally:
                gate.uploads_in_flight -= 1
            return
        await self.app(scope, receive, send)


def document(schema: dict, gate: Gate) -> dict:
    """Add the refusals this gate can give to every guarded operation of the OpenAPI schema."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    refusals = {"429": "Rate limit or daily identify quota reached; see Retry-After."}
    if gate.keys:
        refusals["401"] = "A key is required here, or the key sent is unknown."
    for path, item in schema.get("paths", {}).items():
        if not path.startswith(GUARDED_PREFIXES):
            continue
        for method, operation in item.items():
            answers = dict(refusals)
            if path in UPLOAD_PATHS and method == "post":
                answers["503"] = "Too many uploads in flight; see Retry-After."
            for status_code, description in answers.items():
                operation["responses"].setdefault(
                    status_code, {"description": description, "content": error}
                )
    return schema


def _too_many(detail: str, code: str, wait: int):  # noqa: ANN202 - a JSONResponse
    return error_response(429, detail, code, {"Retry-After": str(wait)})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None
