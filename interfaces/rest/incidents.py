"""Incidents API (seed 001), with reads, history, time travel and optimistic concurrency beyond it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from application.statuspages import incident_json, update_json
from domain.errors import IncidentNotFoundError
from interfaces.rest.admin import parse_id
from interfaces.rest.deps import BeaconDep, ConsistentRead, Reader, Writer
from interfaces.rest.representations import (
    IfMatch,
    decode_cursor,
    encode_cursor,
    envelope,
    etag,
    iso,
    utc_moment,
    write_if_match,
    written,
)
from interfaces.rest.schemas import IncidentCreate, IncidentUpdate, State, UpdateCreate

router = APIRouter(prefix="/api/v1", tags=["incidents"])


def incident_id_of(value: str) -> UUID:
    return parse_id(value, IncidentNotFoundError, "incident")


@router.post("/pages/{page_slug}/incidents", status_code=201)
def create_incident(page_slug: str, body: IncidentCreate, who: Writer, beacon: BeaconDep,
                    response: Response) -> dict:
    """Open an incident on a page; a message becomes its first timeline update."""
    incident = beacon.statuspages.open_incident(
        who.workspace_id, page_slug, title=body.title, impact=body.impact, state=body.state,
        message=body.message, actor=who.actor, components=body.components,
        started_at=body.started_at)
    written(response, incident)
    response.headers["Location"] = f"/api/v1/incidents/{incident.id}"
    return envelope(incident_json(incident, incident.updates))


@router.patch("/incidents/{incident_id}")
def update_incident(incident_id: str, body: IncidentUpdate, who: Writer, beacon: BeaconDep,
                    response: Response, if_match: IfMatch = None) -> dict:
    """Change title, impact, state or resolution; only the fields sent change."""
    incident = write_if_match(response, beacon.statuspages.change_incident, who,
                              incident_id_of(incident_id), if_match, **body.given())
    return envelope(incident_json(incident, None))


@router.post("/incidents/{incident_id}/updates", status_code=201)
def add_update(incident_id: str, body: UpdateCreate, who: Writer, beacon: BeaconDep,
               response: Response, if_match: IfMatch = None) -> dict:
    """Add a timeline entry to an incident."""
    incident, update = write_if_match(response, beacon.statuspages.post_update, who,
                                      incident_id_of(incident_id), if_match, message=body.message)
    return envelope({"incident_id": str(incident.id), **update_json(update)})


@router.get("/incidents/{incident_id}")
def get_incident(incident_id: str, who: Reader, beacon: BeaconDep, response: Response,
                 as_of: datetime | None = None) -> dict:
    """An incident with its updates, now or as it was at `as_of` (ISO 8601)."""
    incident = beacon.statuspages.get_incident(who.workspace_id, incident_id_of(incident_id),
                                               as_of=utc_moment("as_of", as_of))
    response.headers["ETag"] = etag(incident.version)
    return envelope(incident_json(incident, incident.updates))


@router.get("/incidents/{incident_id}/history")
def incident_history(incident_id: str, who: Reader, beacon: BeaconDep) -> dict:
    """Every change to an incident: version, type, when, who, and each field before and after."""
    history = beacon.statuspages.incident_history(who.workspace_id, incident_id_of(incident_id))
    return envelope([{**entry, "occurred_at": iso(entry["occurred_at"])} for entry in history])


@router.get("/pages/{page_slug}/incidents", dependencies=[ConsistentRead])
def list_incidents(page_slug: str, who: Reader, beacon: BeaconDep,
                   state: State | None = None, cursor: str | None = None,
                   limit: Annotated[int, Query(ge=1, le=100)] = 25) -> dict:
    """A page's incidents, newest first, with cursor pagination."""
    beacon.statuspages.get_page(who.workspace_id, page_slug)
    page = beacon.incidents.list_incidents(
        who.workspace_id, page_slug, state=state,
        after=decode_cursor(cursor) if cursor else None, limit=limit)
    updates = beacon.incidents.updates_for([item.id for item in page.items])
    body: dict[str, Any] = {
        "data": [incident_json(item, updates[item.id]) for item in page.items],
        "has_more": page.has_more, "total": page.total,
    }
    if page.next_cursor is not None:
        body["next_cursor"] = encode_cursor(*page.next_cursor)
    return body
