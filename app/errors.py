"""One error shape for every 4xx, FastAPI's own validation errors included:
`{"detail": "<what is wrong, for people>", "code": "<stable, for programs>"}`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.schemas import ErrorOut
from index.errors import InvalidInputError

# Codes by status, for errors that name no finer one (an `ApiError` does).
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
}

# Routes with parameters declare this so /docs shows the real 422 shape, not FastAPI's list.
VALIDATION_RESPONSE: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorOut, "description": "A parameter is missing or out of range."}
}


class ApiError(HTTPException):
    """An HTTPException with a finer machine-readable `code` than its status gives."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code, detail, headers=dict(headers) if headers else None)
        self.code = code or STATUS_CODES.get(status_code, "error")


def error_response(
    status_code: int, detail: str, code: str | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorOut(detail=detail, code=code or STATUS_CODES.get(status_code, "error"))
    return JSONResponse(body.model_dump(), status_code=status_code, headers=headers)


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail if isinstance(error.detail, str) else str(error.detail)
    return error_response(error.status_code, detail, getattr(error, "code", None), error.headers)


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return error_response(status.HTTP_422_UNPROCESSABLE_CONTENT, describe_validation(error))


async def _invalid_input(_request: Request, error: Exception) -> JSONResponse:
    return error_response(status.HTTP_400_BAD_REQUEST, str(error))


def describe_validation(error: RequestValidationError) -> str:
    """FastAPI's error list as one clause per field: `top_k: Input should be ...`."""
    parts = []
    for item in jsonable_encoder(error.errors()):
        where = [str(part) for part in item.get("loc", ())]
        field = where[-1] if len(where) > 1 else "body"
        origin = f" ({where[0]})" if where and where[0] in {"query", "path", "header"} else ""
        parts.append(f"{field}{origin}: {item.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(InvalidInputError, _invalid_input)
