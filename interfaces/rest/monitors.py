"""Monitors API: create heartbeat monitors, list and read them (now or as of a moment), change their
settings (If-Match), delete them, rotate tokens, pause and resume."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import Field, StringConstraints

from domain.configuration import ProjectConfiguration
from domain.errors import MonitorNotFoundError, PageNotFoundError, ValidationError
from domain.monitor import MAX_SECONDS, Monitor
from interfaces.bootstrap import Beacon
from interfaces.rest.admin import parse_id
from interfaces.rest.deps import BeaconDep, ConsistentRead, Reader, Writer
from interfaces.rest.representations import (
    decode_cursor,
    encode_cursor,
    envelope,
    etag,
    iso,
    mark_position,
    parse_if_match,
    public_base,
    utc_moment,
)
from interfaces.rest.schemas import Body, Name
from projections.monitors import MonitorRow

router = APIRouter(prefix="/api/v1/monitors", tags=["monitors"])
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
Seconds = Annotated[int, Field(ge=0, le=MAX_SECONDS, strict=True)]
Status = Literal["new", "up", "late", "down", "paused"]
IfMatch = Annotated[str | None, Header(alias="If-Match")]
SETTINGS_NULLABLE = ("period_seconds", "schedule", "grace_seconds", "max_runtime_seconds",
                     "min_runtime_seconds", "page_slug")


class MonitorSettings(Body):
    """A schedule is `period_seconds` or `schedule: {cron, tz}`, never both (422)."""

    period_seconds: Annotated[int, Field(ge=10, le=MAX_SECONDS, strict=True)] | None = None
    schedule: dict[str, Any] | None = None
    grace_seconds: Seconds | None = None
    max_runtime_seconds: Annotated[int, Field(ge=1, le=MAX_SECONDS, strict=True)] | None = None
    min_runtime_seconds: Annotated[int, Field(ge=1, le=MAX_SECONDS, strict=True)] | None = None
    page_slug: Slug | None = None
    nullable: ClassVar[tuple[str, ...]] = SETTINGS_NULLABLE


class MonitorCreate(MonitorSettings):
    name: Name


class MonitorUpdate(MonitorSettings):
    name: Name | None = None


def ping_url(request: Request, beacon: Beacon, token: str) -> str:
    return f"{public_base(request, beacon.settings.public_url)}/api/v1/beet/{token}"


def monitor_json(monitor: Monitor, beacon: Beacon) -> dict[str, Any]:
    """A monitor on the wire; missed beats are counted by the application's clock."""
    now = beacon.monitoring.clock()
    return {
        **row_json(MonitorRow.of(monitor),
                   beacon.configuration.configuration(monitor.workspace_id)),
        "learned_interval_seconds": monitor.learned_seconds,
        "expected_interval_seconds": monitor.expected_seconds,
        "missed_count": monitor.missed_count(now),
        "too_frequent_beats": monitor.too_frequent_beats,
        "open_runs": [{"rid": rid or None, "started_at": iso(run["started_at"]),
                       "timed_out": run["timed_out"]}
                      for rid, run in sorted(monitor.open_runs.items(),
                                             key=lambda item: item[1]["started_at"])],
        "recent_beats": [{"at": iso(b["at"]), "value": b["value"],
                          "too_frequent": b["too_frequent"]}
                         for b in reversed(monitor.recent_beats)],
        "version": monitor.version, "settings_version": monitor.config_version,
    }


def row_json(row: MonitorRow, configuration: ProjectConfiguration) -> dict[str, Any]:
    """A monitor as the list shows it (from the read model, or from the aggregate);
    `managed_by` names the beacon.yml version that owns it (null: the API owns it)."""
    return {
        "id": str(row.id), "name": row.name, "status": row.status,
        "status_since": iso(row.status_since), "period_seconds": row.period_seconds,
        "schedule": row.schedule, "grace_seconds": row.grace_seconds,
        "max_runtime_seconds": row.max_runtime_seconds,
        "min_runtime_seconds": row.min_runtime_seconds, "page_slug": row.page_slug,
        "last_beat_at": iso(row.last_beat_at), "next_expected_at": iso(row.next_expected_at),
        "down_at": iso(row.down_at),
        "incident_id": str(row.incident_id) if row.incident_id else None,
        "created_at": iso(row.created_at),
        "managed_by": configuration.claim("monitors", row.name, row.id),
    }


def monitor_of(beacon: Beacon, who: Any, monitor_id: str,
               as_of: datetime | None = None) -> Monitor:
    return beacon.monitoring.get_monitor(
        who.workspace_id, parse_id(monitor_id, MonitorNotFoundError, "monitor"), as_of=as_of)


def check_page(beacon: Beacon, who: Any, page_slug: str | None) -> None:
    if page_slug is None:
        return
    try:
        beacon.statuspages.get_page(who.workspace_id, page_slug)
    except PageNotFoundError:
        raise ValidationError("page_slug names no page of this workspace", details=[
            {"field": "page_slug", "message": "unknown page"}]) from None


def written(response: Response, monitor: Monitor) -> None:
    response.headers["ETag"] = etag(monitor.config_version)
    mark_position(response)


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
    check_page(beacon, who, body.page_slug)
    monitor, token = beacon.monitoring.create_monitor(who.workspace_id, actor=who.actor,
                                                      **body.model_dump())
    written(response, monitor)
    response.headers["Location"] = f"/api/v1/monitors/{monitor.id}"
    return envelope({**monitor_json(monitor, beacon), "token": token,
                     "ping_url": ping_url(request, beacon, token)})


@router.get("", dependencies=[ConsistentRead])
def list_monitors(who: Reader, beacon: BeaconDep, status: Status | None = None,
                  cursor: str | None = None,
                  limit: Annotated[int, Query(ge=1, le=100)] = 25) -> dict:
    """The workspace's monitors, newest first, optionally of one status, with cursors."""
    page = beacon.monitors.list_monitors(who.workspace_id, status=status, limit=limit,
                                         after=decode_cursor(cursor) if cursor else None)
    configuration = beacon.configuration.configuration(who.workspace_id)
    body: dict[str, Any] = {"data": [row_json(row, configuration) for row in page.items],
                            "has_more": page.has_more}
    if page.next_cursor is not None:
        body["next_cursor"] = encode_cursor(*page.next_cursor)
    return body


@router.get("/{monitor_id}")
def get_monitor(monitor_id: str, who: Reader, beacon: BeaconDep, response: Response,
                as_of: datetime | None = None) -> dict:
    """A monitor's status, deadlines, open runs and recent beats, now or as it was at `as_of`."""
    monitor = monitor_of(beacon, who, monitor_id, utc_moment("as_of", as_of))
    response.headers["ETag"] = etag(monitor.config_version)
    return envelope(monitor_json(monitor, beacon))


@router.patch("/{monitor_id}")
def update_monitor(monitor_id: str, body: MonitorUpdate, who: Writer, beacon: BeaconDep,
                   response: Response, if_match: IfMatch = None) -> dict:
    """Change settings; only the fields sent change (null unsets). `If-Match` takes the ETag."""
    changes = body.given()
    if "page_slug" in changes:
        check_page(beacon, who, changes["page_slug"])
    monitor = beacon.monitoring.reconfigure(
        who.workspace_id, changeable_monitor_of(beacon, who, monitor_id).id, changes, actor=who.actor,
        expected_version=parse_if_match(if_match))
    written(response, monitor)
    return envelope(monitor_json(monitor, beacon))


@router.delete("/{monitor_id}", status_code=204)
def delete_monitor(monitor_id: str, who: Writer, beacon: BeaconDep) -> Response:
    """Delete a monitor: its token records nothing more, its history is kept."""
    monitor = beacon.monitoring.delete(who.workspace_id,
                                       changeable_monitor_of(beacon, who, monitor_id).id,
                                       actor=who.actor)
    response = Response(status_code=204)
    mark_position(response)
    if monitor.incident_outlived:
        beacon.actors.check_monitor.send(str(monitor.id))
    return response


@router.post("/{monitor_id}/rotate")
def rotate_token(monitor_id: str, who: Writer, beacon: BeaconDep, request: Request,
                 response: Response) -> dict:
    """Replace the monitor's token; the old one records nothing from now on."""
    monitor, token = beacon.monitoring.rotate_token(
        who.workspace_id, changeable_monitor_of(beacon, who, monitor_id).id, actor=who.actor)
    mark_position(response)
    return envelope({**monitor_json(monitor, beacon), "token": token,
                     "ping_url": ping_url(request, beacon, token)})


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
