"""The public status page: server-rendered HTML (no JavaScript) and the same as a JSON summary.

Public: no API key. Slugs are unique per workspace, so the public URL shows the first page created
with a slug (docs/decisions/public-status-page-slugs.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from domain.errors import PageNotFoundError
from interfaces.rest.deps import BeaconDep
from interfaces.rest.public_parts import parts_json
from interfaces.rest.representations import iso
from projections.public_components import PageParts, page_parts
from projections.status_page import PublicIncident, StatusPageView

router = APIRouter(tags=["status page"])
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
CACHE = {"Cache-Control": "public, max-age=0, must-revalidate"}


@lru_cache(maxsize=1)
def templates() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def when(moment: datetime | None) -> str:
    """A moment as a visitor reads it, e.g. Apr 4, 2026 14:32 UTC."""
    if moment is None:
        return ""
    moment = moment.astimezone(UTC)
    return f"{moment:%b} {moment.day}, {moment:%Y %H:%M} UTC"


def incident_summary_json(item: PublicIncident, parts: PageParts) -> dict[str, Any]:
    i = item.incident
    return {"id": str(i.id), "title": i.title, "impact": i.impact, "state": i.state,
            "resolved": i.resolved, "resolved_at": iso(i.resolved_at),
            "created_at": iso(i.created_at), "updated_at": iso(i.updated_at),
            "updates": [{"id": u["id"], "message": u["message"], "created_at": iso(u["created_at"])}
                        for u in item.updates],
            "components": [{"id": str(c.id), "name": c.name, "status": c.status}
                           for c in parts.affected.get(i.id, [])]}


def status_json(view: StatusPageView, parts: PageParts) -> dict[str, Any]:
    overall = parts.overall(view.overall)
    return {
        "page": {"slug": view.slug, "name": view.name},
        "status": {"indicator": overall, "description": parts.label(overall)},
        "active_incidents": [incident_summary_json(i, parts) for i in view.active],
        "history": [incident_summary_json(i, parts) for i in view.history],
        **parts_json(parts),
        "monitors": [{"id": str(m.monitor.id), "name": m.monitor.name, "status": m.monitor.status,
                      "uptime_percent": m.uptime_percent,
                      "days": [{"date": d.day.isoformat(), "state": d.state,
                                "down_seconds": d.down_seconds} for d in m.days]}
                     for m in view.monitors],
        "generated_at": iso(view.generated_at),
    }


def public_view(beacon: Any, slug: str) -> StatusPageView | None:
    """The page's view, or None if there is none (or its project was deleted and is being
    purged: its page is gone from that moment)."""
    view = beacon.public_pages.status_page(slug, beacon.statuspages.clock())
    if view is None or (view.workspace_id and beacon.workspaces.is_deleted(view.workspace_id)):
        return None
    return view


def page_view(beacon: Any, slug: str) -> StatusPageView:
    view = public_view(beacon, slug)
    if view is None:
        raise PageNotFoundError("page not found")
    return view


def _parts(beacon: Any, view: StatusPageView) -> PageParts:
    assert view.workspace_id is not None  # the read models always say whose page it is
    weights = beacon.statuspages.get_page(view.workspace_id, view.slug).uptime_weights
    return page_parts(beacon.components, beacon.maintenances, view.workspace_id, view.slug,
                      weights, view.generated_at,
                      [i.incident.id for i in (*view.active, *view.history)])


@router.get("/status/{slug}.json")
def status_summary(slug: str, beacon: BeaconDep) -> JSONResponse:
    """The public status page as a JSON summary."""
    view = page_view(beacon, slug)
    return JSONResponse(status_json(view, _parts(beacon, view)), headers=CACHE)


@router.get("/status/{slug}", response_class=HTMLResponse)
def status_page(slug: str, beacon: BeaconDep) -> HTMLResponse:
    """The public status page, as a visitor sees it."""
    view = public_view(beacon, slug)
    if view is None:
        html = templates().get_template("not_found.html").render(slug=slug)
        return HTMLResponse(html, status_code=404)
    parts = _parts(beacon, view)
    overall = parts.overall(view.overall)
    html = templates().get_template("status_page.html").render(
        view=view, parts=parts, overall=overall, label=parts.label(overall), iso=iso, when=when)
    return HTMLResponse(html, headers=CACHE)
