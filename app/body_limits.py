"""Request bodies on upload routes, checked as they stream: total bytes, stalls, and each file
part against its own limit, so an oversize or slow upload is stopped as early as possible."""

from __future__ import annotations

import asyncio

from fastapi import status
from fastapi.responses import JSONResponse
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import error_response
from app.uploads import UploadError, UploadLimits, too_large


class UploadLimitMiddleware:
    """Counts request-body bytes as they arrive on upload routes and stops at the limit, or
    when the body stalls for longer than `body_timeout`.

    Content-Length is only a hint: a larger declared length is refused before reading, but a
    chunked or lying client is cut off by the count. Errors are the API's usual JSON 413.
    """

    def __init__(
        self,
        app: ASGIApp,
        limits: dict[str, tuple[int, str]],
        body_timeout: float,
        part_limits: dict[str, UploadLimits] | None = None,
    ) -> None:
        self.app = app
        self.limits = limits  # path -> (most bytes one POST body may carry, the setting behind)
        self.body_timeout = body_timeout
        self.part_limits = part_limits or {}  # path -> per-file limits checked as parts stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rule = None
        if scope["type"] == "http" and scope["method"] == "POST":
            rule = self.limits.get(scope["path"])
        if rule is None:
            await self.app(scope, receive, send)
            return
        limit, setting = rule
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(limit, setting)(scope, receive, send)
            return
        received = 0
        parts = _PartWatch.of(scope, self.part_limits.get(scope["path"]))

        async def counted_receive() -> Message:
            nonlocal received
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout)
            except TimeoutError:
                raise UploadError(
                    status.HTTP_408_REQUEST_TIMEOUT,
                    f"the request body stalled for over {self.body_timeout:g} s "
                    "(the server's SHAZAM_BODY_TIMEOUT)",
                ) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large("the request body", limit, setting)
                if parts is not None:
                    parts.feed(message.get("body", b""))
            return message

        await self.app(scope, counted_receive, send)


class _PartWatch:
    """Follows a multipart body as it streams and stops at the first file over its limit, so
    an oversize file is refused when it crosses the limit, not after the whole body is in:
    parts declared image/* at the image limit, other files at the video limit. A body it cannot
    follow is left to the form parser, which reports it."""

    def __init__(self, boundary: bytes, limits: UploadLimits) -> None:
        self._limits = limits
        self._field = self._value = b""
        self._headers: dict[bytes, bytes] = {}
        self._size = 0
        self._rule: tuple[int, str, str] | None = None
        self._lost = False
        self._refusal: UploadError | None = None
        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._begin,
                "on_header_field": lambda data, a, b: self._add("_field", data[a:b]),
                "on_header_value": lambda data, a, b: self._add("_value", data[a:b]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._data,
            },
        )

    @classmethod
    def of(cls, scope: Scope, limits: UploadLimits | None) -> _PartWatch | None:
        if limits is None:
            return None
        kind, options = parse_options_header(Headers(scope=scope).get("content-type", ""))
        boundary = options.get(b"boundary")
        return cls(boundary, limits) if kind == b"multipart/form-data" and boundary else None

    def feed(self, chunk: bytes) -> None:
        if not self._lost and self._refusal is None:
            try:
                self._parser.write(chunk)
            except Exception:
                self._lost = True
        if self._refusal is not None:
            raise self._refusal

    def _add(self, name: str, piece: bytes) -> None:
        setattr(self, name, getattr(self, name) + piece)

    def _begin(self) -> None:
        self._headers, self._size, self._rule = {}, 0, None

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field = self._value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        filename = options.get(b"filename")
        if filename is None:
            return  # a plain field: the form parser bounds those
        name = filename.decode("utf-8", "replace")
        if self._headers.get(b"content-type", b"").lower().startswith(b"image/"):
            self._rule = (self._limits.image_bytes, "SHAZAM_MAX_UPLOAD_BYTES", f"image {name!r}")
        else:
            self._rule = (self._limits.video_bytes, "SHAZAM_MAX_VIDEO_BYTES", f"file {name!r}")

    def _data(self, _data: bytes, start: int, end: int) -> None:
        self._size += end - start
        if self._rule is not None and self._size > self._rule[0]:
            limit, setting, what = self._rule
            self._refusal = too_large(what, limit, setting)


def _refuse(limit: int, setting: str) -> JSONResponse:
    error = too_large("the request body", limit, setting)
    # Connection: close, since the unread body would otherwise be taken for the next request.
    return error_response(error.status_code, error.detail, headers={"Connection": "close"})
