"""Scheduled maintenance: schedule, list, change (If-Match), annotate, history, as_of."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from application.statuspages import update_json
from domain.errors import MaintenanceNotFoundError, ValidationError
from domain.maintenance import STATES, Maintenance
from interfaces.rest.admin import parse_id
from interfaces.rest.components import check_monitors, stamps, wire
from interfaces.rest.deps import BeaconDep, ConsistentRead, Reader, Writer
from interfaces.rest.page_schemas import MaintenanceCreate, MaintenanceUpdate
from interfaces.rest.representations import IfMatch, envelope, etag, iso, utc_moment, write_if_match, written
from interfaces.rest.schemas import UpdateCreate
from projections.maintenance import MaintenanceSummary

router = APIRouter(prefix="/api/v1", tags=["maintenance"])


def maintenance_id_of(value: str) -> UUID:
    return parse_id(value, MaintenanceNotFoundError, "maintenance")


def maintenance_json(m: Maintenance | MaintenanceSummary,
                     updates: list[dict[str, Any]] | None) -> dict[str, Any]:
    created, updated = stamps(m)
    body: dict[str, Any] = {
        "id": str(m.id), "page_slug": m.page_slug, "title": m.title, "state": m.state,
        "scheduled_for": iso(m.scheduled_for), "scheduled_until": iso(m.scheduled_until),
        "started_at": iso(m.started_at), "ended_at": iso(m.ended_at),
        "components": list(m.components), "monitors": list(m.monitors),
        "auto_start": m.auto_start, "auto_complete": m.auto_complete,
        "created_at": created, "updated_at": updated,
        "version": m.version,
    }
    if updates is not None:
        body["updates"] = [update_json(u) for u in updates]
    return body


@router.post("/pages/{page_slug}/maintenances", status_code=201)
def schedule_maintenance(page_slug: str, body: MaintenanceCreate, who: Writer,
                         beacon: BeaconDep, response: Response) -> dict:
    """Schedule maintenance; a window whose times have passed takes effect at once, at them."""
    check_monitors(beacon, who.workspace_id, body.monitors, "monitors")
    maintenance = beacon.statuspages.schedule_maintenance(
        who.workspace_id, page_slug, title=body.title, message=body.message,
        scheduled_for=body.scheduled_for, scheduled_until=body.scheduled_until,
        components=[str(c) for c in body.components], monitors=[str(m) for m in body.monitors],
        auto_start=body.auto_start, auto_complete=body.auto_complete, actor=who.actor)
    written(response, maintenance)
    response.headers["Location"] = f"/api/v1/maintenances/{maintenance.id}"
    return envelope(maintenance_json(maintenance, maintenance.updates))


@router.get("/pages/{page_slug}/maintenances", dependencies=[ConsistentRead])
def list_maintenances(page_slug: str, who: Reader, beacon: BeaconDep,
                      state: str | None = None) -> dict:
    """A page's maintenance, latest scheduled first (at most 500), optionally in one state."""
    if state is not None and state not in STATES:
        raise ValidationError(f"state must be one of: {', '.join(STATES)}",
                              details=[{"field": "state", "message": f"one of {list(STATES)}"}])
    beacon.statuspages.get_page(who.workspace_id, page_slug)
    items = beacon.maintenances.on_page(who.workspace_id, page_slug,
                                        (state,) if state else None)
    updates = beacon.maintenances.updates_for([m.id for m in items])
    return {"data": [maintenance_json(m, updates[m.id]) for m in items]}


@router.get("/maintenances/{maintenance_id}")
def get_maintenance(maintenance_id: str, who: Reader, beacon: BeaconDep, response: Response,
                    as_of: datetime | None = None) -> dict:
    """Maintenance with its updates, now or as it was at `as_of` (ISO 8601)."""
    maintenance = beacon.statuspages.get_maintenance(
        who.workspace_id, maintenance_id_of(maintenance_id), as_of=utc_moment("as_of", as_of))
    response.headers["ETag"] = etag(maintenance.version)
    return envelope(maintenance_json(maintenance, maintenance.updates))


@router.patch("/maintenances/{maintenance_id}")
def change_maintenance(maintenance_id: str, body: MaintenanceUpdate, who: Writer,
                       beacon: BeaconDep, response: Response, if_match: IfMatch = None) -> dict:
    """Change title, times, scope, automation or state; only the fields sent change."""
    fields = body.given()
    check_monitors(beacon, who.workspace_id, fields.get("monitors"), "monitors")
    for name in ("components", "monitors"):
        if name in fields:
            fields[name] = [str(i) for i in fields[name]]
    maintenance = write_if_match(response, beacon.statuspages.change_maintenance, who,
                                 maintenance_id_of(maintenance_id), if_match, **fields)
    return envelope(maintenance_json(maintenance, None))


@router.post("/maintenances/{maintenance_id}/updates", status_code=201)
def add_update(maintenance_id: str, body: UpdateCreate, who: Writer, beacon: BeaconDep,
               response: Response, if_match: IfMatch = None) -> dict:
    """Add a timeline entry to maintenance."""
    maintenance, update = write_if_match(response, beacon.statuspages.post_maintenance_update, who,
                                         maintenance_id_of(maintenance_id), if_match,
                                         message=body.message)
    return envelope({"maintenance_id": str(maintenance.id), **update_json(update)})


@router.get("/maintenances/{maintenance_id}/history")
def maintenance_history(maintenance_id: str, who: Reader, beacon: BeaconDep) -> dict:
    """Every change: version, type, when, who, each field before and after, and for state
    changes when they took effect."""
    history = beacon.statuspages.maintenance_history(who.workspace_id,
                                                     maintenance_id_of(maintenance_id))
    return envelope([wire(entry) for entry in history])
