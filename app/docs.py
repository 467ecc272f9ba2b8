"""/docs without a CDN, with a file picker for every file field.

Swagger UI's assets come from the `fastapi-offline` package, so the docs work on a machine with
no internet; ReDoc is left out, since its bundle still loads its logo from a CDN. FastAPI
describes an upload as OpenAPI 3.1's `contentMediaType`, which Swagger UI turns into a file
picker for a single field but into text boxes inside an array (`list[UploadFile]`, our `files`)
and inside `anyOf` with null (an optional upload); adding the OpenAPI 3.0 `format: binary` and
dropping the null branch of optional uploads gives pickers everywhere (swagger-ui#10825,
fastapi#15069).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

UPLOAD_MEDIA_TYPE = "application/octet-stream"


def offline_app(**kwargs: Any) -> FastAPI:
    """A FastAPI app whose /docs loads its assets from this server."""
    app = FastAPIOffline(redoc_url=None, **kwargs)
    build_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_file_pickers(build_schema())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
    return app


def with_file_pickers(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with every upload marked `format: binary` and optional uploads un-nulled."""
    for body in schema.get("components", {}).get("schemas", {}).values():
        for name, field in body.get("properties", {}).items():
            body["properties"][name] = _file_field(field)
    return schema


def _file_field(field: dict[str, Any]) -> dict[str, Any]:
    """The field marked as a file (a new dict), or `field` itself when it holds no upload."""
    if field.get("contentMediaType") == UPLOAD_MEDIA_TYPE:
        return {**field, "format": "binary"}
    items = field.get("items")
    if isinstance(items, dict) and (marked := _file_field(items)) is not items:
        return {**field, "items": marked}
    branches = [branch for branch in field.get("anyOf", []) if branch != {"type": "null"}]
    if len(branches) == 1 and (marked := _file_field(branches[0])) is not branches[0]:
        rest = {key: value for key, value in field.items() if key != "anyOf"}
        return {**rest, **marked}
    return field
