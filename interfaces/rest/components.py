"""Components of a status page: add, list by group, change (If-Match), archive, history, as_of."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from fastapi import APIRouter, Response

from domain.component import Component
from domain.errors import ComponentNotFoundError, NotFoundError, ValidationError
from interfaces.bootstrap import Beacon
from interfaces.rest.admin import parse_id
from interfaces.rest.deps import BeaconDep, ConsistentRead, Reader, Writer
from interfaces.rest.page_schemas import ComponentCreate, ComponentUpdate
from interfaces.rest.representations import IfMatch, envelope, etag, iso, utc_moment, write_if_match, written
from projections.components import ComponentSummary

router = APIRouter(prefix="/api/v1", tags=["components"])


def component_id_of(value: str) -> UUID:
    return parse_id(value, ComponentNotFoundError, "component")


def under_maintenance(beacon: Beacon, component_ids: list[UUID], now: datetime) -> set[UUID]:
    """The components a maintenance window in progress covers now."""
    return {c for c in component_ids if any(
        w.started_at <= now and (w.ended_at is None or w.ended_at > now)
        for w in beacon.maintenances.windows([str(c)]))}


def stamps(item: Any) -> tuple[str | None, str | None]:
    """When an aggregate or a read-model row was created and last changed, on the wire."""
    if isinstance(item, Aggregate):
        return iso(item.created_on), iso(item.modified_on)
    return iso(item.created_at), iso(item.updated_at)


def component_json(component: Component | ComponentSummary, *, maintained: bool) -> dict[str, Any]:
    """A component on the wire; `status` shows under_maintenance while a window covers it, and
    `own_status` what it would be without the window."""
    created, updated = stamps(component)
    return {
        "id": str(component.id), "page_slug": component.page_slug, "name": component.name,
        "group": component.group, "description": component.description,
        "position": component.position,
        "monitor_id": str(component.monitor_id) if component.monitor_id else None,
        "status": "under_maintenance" if maintained else component.status,
        "own_status": component.status,
        "archived": component.archived if isinstance(component, Component)
        else component.archived_at is not None,
        "created_at": created, "updated_at": updated,
        "version": component.version,
    }


def _shown(beacon: Beacon, component: Component) -> dict[str, Any]:
    now = beacon.statuspages.clock()
    return component_json(component, maintained=component.id in under_maintenance(
        beacon, [component.id], now))


def check_monitors(beacon: Beacon, workspace_id: UUID, monitor_ids: list[UUID] | None,
                   field: str) -> None:
    """Each id names a monitor of the workspace, or the request is a 422."""
    for monitor_id in monitor_ids or []:
        try:
            beacon.monitoring.get_monitor(workspace_id, monitor_id)
        except NotFoundError:
            raise ValidationError(f"{monitor_id} is not a monitor of this workspace",
                                  details=[{"field": field, "message": "unknown monitor"}]
                                  ) from None


@router.post("/pages/{page_slug}/components", status_code=201)
def add_component(page_slug: str, body: ComponentCreate, who: Writer, beacon: BeaconDep,
                  response: Response) -> dict:
    """Add a component to a page; it starts operational."""
    check_monitors(beacon, who.workspace_id, [body.monitor_id] if body.monitor_id else None,
                   "monitor_id")
    component = beacon.statuspages.add_component(
        who.workspace_id, page_slug, name=body.name, group=body.group,
        description=body.description, position=body.position, monitor_id=body.monitor_id,
        actor=who.actor)
    written(response, component)
    response.headers["Location"] = f"/api/v1/components/{component.id}"
    return envelope(_shown(beacon, component))


@router.get("/pages/{page_slug}/components", dependencies=[ConsistentRead])
def list_components(page_slug: str, who: Reader, beacon: BeaconDep,
                    archived: bool = False) -> dict:
    """A page's components in order (group, position, name), and the groups they form."""
    beacon.statuspages.get_page(who.workspace_id, page_slug)
    items = beacon.components.on_page(who.workspace_id, page_slug, archived=archived)
    maintained = under_maintenance(beacon, [c.id for c in items], beacon.statuspages.clock())
    data = [component_json(c, maintained=c.id in maintained) for c in items]
    groups: dict[str | None, list[str]] = {}
    for item in data:
        groups.setdefault(item["group"], []).append(item["id"])
    return {"data": data,
            "groups": [{"name": name, "components": ids} for name, ids in groups.items()]}


@router.get("/components/{component_id}")
def get_component(component_id: str, who: Reader, beacon: BeaconDep, response: Response,
                  as_of: datetime | None = None) -> dict:
    """A component now, or as it was at `as_of` (ISO 8601)."""
    as_of = utc_moment("as_of", as_of)
    component = beacon.statuspages.get_component(who.workspace_id, component_id_of(component_id),
                                                 as_of=as_of)
    response.headers["ETag"] = etag(component.version)
    if as_of is not None:
        return envelope(component_json(component, maintained=component.id in under_maintenance(
            beacon, [component.id], as_of)))
    return envelope(_shown(beacon, component))


@router.patch("/components/{component_id}")
def change_component(component_id: str, body: ComponentUpdate, who: Writer, beacon: BeaconDep,
                     response: Response, if_match: IfMatch = None) -> dict:
    """Change name, group, description, position or status; only the fields sent change."""
    component = write_if_match(response, beacon.statuspages.change_component, who,
                               component_id_of(component_id), if_match, **body.given())
    return envelope(_shown(beacon, component))


@router.delete("/components/{component_id}", status_code=204)
def archive_component(component_id: str, who: Writer, beacon: BeaconDep,
                      response: Response) -> Response:
    """Archive a component: it leaves the page and the list; its history and uptime stay."""
    component = beacon.statuspages.archive_component(
        who.workspace_id, component_id_of(component_id), actor=who.actor)
    written(response, component)
    return Response(status_code=204, headers=dict(response.headers))


@router.get("/components/{component_id}/history")
def component_history(component_id: str, who: Reader, beacon: BeaconDep) -> dict:
    """Every change to a component: version, type, when, who, each field before and after, and
    for status changes when they took effect and what caused them."""
    history = beacon.statuspages.component_history(who.workspace_id,
                                                   component_id_of(component_id))
    return envelope([wire(entry) for entry in history])


def wire(value: Any) -> Any:
    """Datetimes as ISO 8601 UTC and UUIDs as strings, all the way down."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [wire(v) for v in value]
    return value
