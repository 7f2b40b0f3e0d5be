"""Monitors API: create heartbeat monitors, read their status, rotate tokens, pause and resume."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Request, Response
from pydantic import Field, StringConstraints

from domain.errors import MonitorNotFoundError, PageNotFoundError, ValidationError
from domain.monitor import MAX_SECONDS, Monitor
from interfaces.bootstrap import Beacon
from interfaces.rest.admin import parse_id
from interfaces.rest.deps import BeaconDep, Reader, Writer
from interfaces.rest.representations import envelope, iso, mark_position
from interfaces.rest.schemas import Body, Name

router = APIRouter(prefix="/api/v1/monitors", tags=["monitors"])
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]


class MonitorCreate(Body):
    name: Name
    period_seconds: Annotated[int, Field(ge=10, le=MAX_SECONDS, strict=True)] | None = None
    grace_seconds: Annotated[int, Field(ge=0, le=MAX_SECONDS, strict=True)] | None = None
    page_slug: Slug | None = None
    nullable: ClassVar[tuple[str, ...]] = ("period_seconds", "grace_seconds", "page_slug")


def ping_url(request: Request, token: str) -> str:
    return f"{request.base_url}api/v1/beet/{token}"


def monitor_json(monitor: Monitor, beacon: Beacon) -> dict[str, Any]:
    """A monitor on the wire; missed beats are counted by the application's clock."""
    now = beacon.monitoring.clock()
    return {
        "id": str(monitor.id), "name": monitor.name, "status": monitor.status,
        "status_since": iso(monitor.status_since), "period_seconds": monitor.period_seconds,
        "grace_seconds": monitor.grace_seconds,
        "learned_interval_seconds": monitor.learned_seconds,
        "expected_interval_seconds": monitor.expected_seconds, "page_slug": monitor.page_slug,
        "last_beat_at": iso(monitor.last_beat_at), "next_expected_at": iso(monitor.late_at),
        "down_at": iso(monitor.down_at), "missed_count": monitor.missed_count(now),
        "too_frequent_beats": monitor.too_frequent_beats,
        "incident_id": str(monitor.incident_id) if monitor.incident_id else None,
        "recent_beats": [{"at": iso(b["at"]), "value": b["value"],
                          "too_frequent": b["too_frequent"]}
                         for b in reversed(monitor.recent_beats)],
        "created_at": iso(monitor.created_on), "version": monitor.version,
    }


def monitor_of(beacon: Beacon, who: Any, monitor_id: str) -> Monitor:
    return beacon.monitoring.get_monitor(
        who.workspace_id, parse_id(monitor_id, MonitorNotFoundError, "monitor"))


def changeable_monitor_of(beacon: Beacon, who: Any, monitor_id: str) -> Monitor:
    """A monitor the API may change: one that beacon.yml owns is 409 (change it there)."""
    monitor = monitor_of(beacon, who, monitor_id)
    beacon.configuration.check_not_owned(who.workspace_id, "monitors", monitor.name,
                                         f"monitor {monitor.name!r}", monitor.id)
    return monitor


@router.post("", status_code=201)
def create_monitor(body: MonitorCreate, who: Writer, beacon: BeaconDep, request: Request,
                   response: Response) -> dict:
    """Create a heartbeat monitor. Its token (and ping URL) are shown in this response only."""
    if body.page_slug is not None:
        try:
            beacon.statuspages.get_page(who.workspace_id, body.page_slug)
        except PageNotFoundError:
            raise ValidationError("page_slug names no page of this workspace", details=[
                {"field": "page_slug", "message": "unknown page"}]) from None
    monitor, token = beacon.monitoring.create_monitor(
        who.workspace_id, name=body.name, period_seconds=body.period_seconds,
        grace_seconds=body.grace_seconds, page_slug=body.page_slug, actor=who.actor)
    mark_position(response)
    response.headers["Location"] = f"/api/v1/monitors/{monitor.id}"
    return envelope({**monitor_json(monitor, beacon), "token": token,
                     "ping_url": ping_url(request, token)})


@router.get("/{monitor_id}")
def get_monitor(monitor_id: str, who: Reader, beacon: BeaconDep) -> dict:
    """A monitor's status, deadlines, missed beats and recent beats."""
    return envelope(monitor_json(monitor_of(beacon, who, monitor_id), beacon))


@router.post("/{monitor_id}/rotate")
def rotate_token(monitor_id: str, who: Writer, beacon: BeaconDep, request: Request,
                 response: Response) -> dict:
    """Replace the monitor's token; the old one records nothing from now on."""
    monitor, token = beacon.monitoring.rotate_token(
        who.workspace_id, changeable_monitor_of(beacon, who, monitor_id).id, actor=who.actor)
    mark_position(response)
    return envelope({**monitor_json(monitor, beacon), "token": token,
                     "ping_url": ping_url(request, token)})


@router.post("/{monitor_id}/pause")
def pause_monitor(monitor_id: str, who: Writer, beacon: BeaconDep, response: Response) -> dict:
    """Stop expecting beats: a paused monitor is never late nor down."""
    return _switched(beacon.monitoring.pause, monitor_id, who, beacon, response)


@router.post("/{monitor_id}/resume")
def resume_monitor(monitor_id: str, who: Writer, beacon: BeaconDep, response: Response) -> dict:
    """Expect beats again, the next one within an interval from now."""
    return _switched(beacon.monitoring.resume, monitor_id, who, beacon, response)


def _switched(command: Callable[..., Monitor], monitor_id: str, who: Any, beacon: Beacon,
              response: Response) -> dict:
    monitor = command(who.workspace_id, changeable_monitor_of(beacon, who, monitor_id).id,
                      actor=who.actor)
    mark_position(response)
    return envelope(monitor_json(monitor, beacon))
