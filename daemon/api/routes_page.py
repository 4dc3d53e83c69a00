"""The live page at ``/`` and its two static files, served from the package (no build step).

The page holds no data: it asks for the API token (kept in the tab's ``sessionStorage``), then
reads ``/v1/parents`` and follows ``/v1/events`` with ``Authorization: Bearer`` on every request.
So the page's own files are served without a token, like ``/v1/health``, ``/docs`` and
``/openapi.json``; every path that shows or changes anything needs it. A strict
Content-Security-Policy allows only the daemon's own script and style.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import Response

__all__ = ["PAGE_FILES", "router"]

# name -> media type: the only files served, so no path from a request ever reaches the disk.
PAGE_FILES = {
    "index.html": "text/html; charset=utf-8",
    "page.js": "text/javascript; charset=utf-8",
    "page.css": "text/css; charset=utf-8",
}
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


@cache
def _read(name: str) -> bytes:
    return resources.files("daemon.api").joinpath("static", name).read_bytes()


def _file(name: str) -> Response:
    return Response(_read(name), media_type=PAGE_FILES[name], headers=_HEADERS)


@router.get("/")
async def page() -> Response:
    """The live page."""
    return _file("index.html")


@router.get("/static/{name}")
async def static_file(name: str) -> Response:
    """The page's script and style."""
    if name not in PAGE_FILES or name == "index.html":
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no file {name!r}")
    return _file(name)
