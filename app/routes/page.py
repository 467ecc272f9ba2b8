"""GET /: the web page (plain HTML, CSS and JavaScript in app/web, no CDN, no build step)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
ASSETS_PATH = "/web"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def page() -> FileResponse:
    return FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-cache"})


def assets() -> StaticFiles:
    """The page's CSS and scripts, mounted at ASSETS_PATH."""
    return StaticFiles(directory=WEB_DIR)
