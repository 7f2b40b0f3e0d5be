"""One stored event or exception report with what the pipeline derived from it (its content
hash, geo and device), so an operator can prove a stored event is the one received."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from domain.errors import EventNotFoundError
from interfaces.rest.deps import BeaconDep, ConsistentRead, Reader
from interfaces.rest.representations import envelope, iso
from projections.model import from_micros

router = APIRouter(tags=["events"])


def _times(row: dict[str, Any], *columns: str) -> dict[str, Any]:
    return {**row, **{c: iso(from_micros(row[c])) for c in columns if row.get(c) is not None}}


@router.get("/api/v1/events/{event_id}", dependencies=[ConsistentRead])
def get_event(event_id: str, who: Reader, beacon: BeaconDep) -> dict:
    """A stored event as accepted, with its enrichment (null until the pipeline derived it)."""
    row = beacon.enriched.event(who.workspace_id, event_id.lower())
    if row is None:
        raise EventNotFoundError("event not found")
    return envelope(_times(row, "timestamp", "received_at"))


@router.get("/api/v1/exceptions/{exception_id}", dependencies=[ConsistentRead])
def get_exception(exception_id: str, who: Reader, beacon: BeaconDep) -> dict:
    """A stored exception report, with its enrichment."""
    row = beacon.enriched.exception(who.workspace_id, exception_id)
    if row is None:
        raise EventNotFoundError("exception report not found")
    return envelope(_times(row, "occurred_at", "received_at"))
