"""Uptime of components and monitors over any range, and the page setting that weighs it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from domain.errors import MonitorNotFoundError, NotFoundError, ValidationError
from interfaces.bootstrap import Beacon
from interfaces.rest.admin import parse_id
from interfaces.rest.components import component_id_of, wire
from interfaces.rest.deps import BeaconDep, ConsistentRead, Reader, Writer
from interfaces.rest.page_schemas import PageUpdate
from interfaces.rest.representations import envelope, mark_position, utc_moment
from projections.uptime import INTERVALS, MAX_INTERVALS, component_uptime, monitor_uptime

router = APIRouter(prefix="/api/v1", tags=["uptime"])
From = Annotated[datetime | None, Query(alias="from")]
To = Annotated[datetime | None, Query(alias="to")]


def uptime_range(start: datetime | None, end: datetime | None, interval: str | None,
                 created_at: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The range asked for: from creation until now unless given; a bad one is a 422."""
    start, end = utc_moment("from", start), utc_moment("to", end)
    lo, hi = start or created_at, end or now
    problem = None
    if hi <= lo:
        problem = ("to", "must be after from")
    elif interval is not None and interval not in INTERVALS:
        problem = ("interval", f"one of {list(INTERVALS)}")
    elif interval is not None and (hi - lo) / INTERVALS[interval] > MAX_INTERVALS:
        problem = ("interval", f"at most {MAX_INTERVALS} intervals per request")
    if problem:
        raise ValidationError(f"{problem[0]} {problem[1]}",
                              details=[{"field": problem[0], "message": problem[1]}])
    return lo, hi


def _weights(beacon: Beacon, workspace_id: UUID, page_slug: str | None) -> dict[str, float]:
    if page_slug is None:
        return {}
    try:
        return beacon.statuspages.get_page(workspace_id, page_slug).uptime_weights
    except NotFoundError:  # the page went away: the default weights
        return {}


@router.get("/components/{component_id}/uptime", dependencies=[ConsistentRead])
def component_uptime_of(component_id: str, who: Reader, beacon: BeaconDep, start: From = None,
                        end: To = None, interval: str | None = "day") -> dict:
    """Uptime over [from, to) with seconds of each kind, and one entry per interval."""
    component = beacon.statuspages.get_component(who.workspace_id, component_id_of(component_id))
    now = beacon.statuspages.clock()
    lo, hi = uptime_range(start, end, interval, component.created_on, now)
    page = beacon.statuspages.get_page(who.workspace_id, component.page_slug)
    archived = component.modified_on if component.archived else None
    body = component_uptime(beacon.components, beacon.maintenances, component.id, lo, hi,
                            interval, page.uptime_weights, now, archived_at=archived)
    return envelope(wire({"component_id": component.id, **body}))


@router.get("/monitors/{monitor_id}/uptime", dependencies=[ConsistentRead])
def monitor_uptime_of(monitor_id: str, who: Reader, beacon: BeaconDep, start: From = None,
                      end: To = None, interval: str | None = "day") -> dict:
    """A monitor's uptime: down is a major outage; maintenance that covers it is left out. The
    weights are those of the monitor's page, if it has one."""
    monitor_key = parse_id(monitor_id, MonitorNotFoundError, "monitor")
    body = uptime_of_monitor(beacon, who.workspace_id, monitor_key, start, end, interval)
    return envelope(wire({"monitor_id": monitor_key, **body}))


def uptime_of_monitor(beacon: Beacon, workspace_id: UUID, monitor_id: UUID, start: datetime | None,
                      end: datetime | None, interval: str | None) -> dict[str, Any]:
    """A monitor's uptime as REST and GraphQL answer it (404 for another workspace's)."""
    monitor = beacon.monitoring.get_monitor(workspace_id, monitor_id)
    now = beacon.monitoring.clock()
    lo, hi = uptime_range(start, end, interval, monitor.created_on, now)
    return monitor_uptime(beacon.monitors, beacon.components, beacon.maintenances, monitor.id,
                          monitor.created_on, lo, hi, interval,
                          _weights(beacon, workspace_id, monitor.page_slug), now)


@router.patch("/pages/{page_slug}")
def change_page(page_slug: str, body: PageUpdate, who: Writer, beacon: BeaconDep,
                response: Response) -> dict:
    """Set how much partial outages and degraded performance count against the page's uptime."""
    weights: dict[str, Any] = body.uptime_weights.given()
    page = beacon.statuspages.weigh_uptime(who.workspace_id, page_slug, weights, actor=who.actor)
    mark_position(response)
    return envelope({"slug": page.slug, "name": page.name,
                     "uptime_weights": {"major_outage": 1.0, **page.uptime_weights}})
