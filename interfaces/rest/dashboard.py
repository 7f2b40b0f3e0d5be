"""The dashboard: a client of the public APIs, served as static files (docs/decisions/dashboard.md).

Nothing here reads data: the pages read GraphQL and write through the documented REST endpoints.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from domain.errors import NotFoundError

router = APIRouter(include_in_schema=False)
WEB = Path(__file__).resolve().parent.parent / "web"
INLINE_SCRIPT = re.compile(r"<script type=\"importmap\">(.*?)</script>", re.S)


@lru_cache(maxsize=1)
def index() -> tuple[str, str]:
    """The app's one HTML document and its Content-Security-Policy (the import map by its hash)."""
    text = (WEB / "index.html").read_text()
    digests = [base64.b64encode(hashlib.sha256(m.encode()).digest()).decode()
               for m in INLINE_SCRIPT.findall(text)]
    scripts = " ".join(f"'sha256-{d}'" for d in digests)
    policy = (f"default-src 'self'; script-src 'self' {scripts}; style-src 'self' 'unsafe-inline'; "
              "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
    return text, policy


@router.get("/")
def home(request: Request) -> Response:
    """Browsers go to the dashboard; API clients get the usual 404 envelope."""
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/app", status_code=307)
    raise NotFoundError("Nothing here: the dashboard is at /app, the API under /api and /v1.")


@router.get("/invitations/accept")
def invitation_link(token: str = "") -> RedirectResponse:
    """An invitation's link opens the dashboard's page that accepts it."""
    return RedirectResponse(f"/app/join?{urlencode({'token': token})}", status_code=307)


@router.get("/app")
@router.get("/app/{path:path}")
def app_page(path: str = "") -> HTMLResponse:
    """Every dashboard URL answers the same document; the page picks its view from the URL."""
    text, policy = index()
    return HTMLResponse(text, headers={
        "Cache-Control": "no-cache", "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})


def mount(app: FastAPI) -> None:
    """Serve the dashboard's assets (vendored libraries included) under /app/static."""
    app.mount("/app/static", StaticFiles(directory=WEB / "static"), name="dashboard-static")
    app.include_router(router)
