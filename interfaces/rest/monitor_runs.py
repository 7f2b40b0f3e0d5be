"""What a monitor went through: its signals (beats), runs, status changes (flips) and settings
history, and previews of what other settings would have made of the same signals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field

from interfaces.rest.deps import BeaconDep, ConsistentRead, Reader
from interfaces.rest.errors import BadRequest
from interfaces.rest.monitors import MonitorSettings, monitor_of
from interfaces.rest.representations import (
    decode_cursor,
    decode_version,
    encode_cursor,
    encode_version,
    envelope,
    iso,
    listing,
    utc_moment,
)
from projections.model import micros

router = APIRouter(prefix="/api/v1/monitors", tags=["monitors"])
Limit = Annotated[int, Query(ge=1, le=100)]
Kind = Literal["success", "start", "fail", "log"]


def flip_json(flip: dict[str, Any]) -> dict[str, Any]:
    shaped = {"at": iso(flip["at"]), "before": flip["before"], "after": flip["after"],
              "reason": flip["reason"], "rid": flip["rid"], "exit_status": flip["exit_status"]}
    if "recorded_at" in flip:
        shaped["recorded_at"] = iso(flip["recorded_at"])
    return shaped


@router.get("/{monitor_id}/beats", dependencies=[ConsistentRead])
def monitor_beats(monitor_id: str, who: Reader, beacon: BeaconDep, kind: Kind | None = None,
                  cursor: str | None = None, limit: Limit = 50) -> dict:
    """Every signal the monitor received, newest first, with the body it kept."""
    monitor = monitor_of(beacon, who, monitor_id)
    rows = beacon.monitor_activity.beats(who.workspace_id, monitor.id, kind=kind,
                                         before=decode_version(cursor), limit=limit + 1)
    return listing(rows, limit, lambda r: {
        "at": iso(r["at"]), "kind": r["kind"], "rid": r["rid"], "exit_status": r["exit_status"],
        "value": r["value"], "body": r["body"], "reason": r["reason"]},
        lambda r: encode_version(r["version"]))


@router.get("/{monitor_id}/runs", dependencies=[ConsistentRead])
def monitor_runs(monitor_id: str, who: Reader, beacon: BeaconDep, cursor: str | None = None,
                 limit: Limit = 50) -> dict:
    """Runs (a start and what ended it), newest first, with their durations."""
    monitor = monitor_of(beacon, who, monitor_id)
    rows = beacon.monitor_activity.runs(who.workspace_id, monitor.id, limit=limit + 1,
                                        before=decode_cursor(cursor) if cursor else None)
    return listing(rows, limit, lambda r: {
        "rid": r["rid"], "started_at": iso(r["started_at"]), "ended_at": iso(r["ended_at"]),
        "duration_ms": r["duration_ms"], "outcome": r["outcome"],
        "exit_status": r["exit_status"], "timed_out": r["timed_out"]},
        lambda r: encode_cursor(micros(r["started_at"]), r["rid_key"]))


@router.get("/{monitor_id}/flips", dependencies=[ConsistentRead])
def monitor_flips(monitor_id: str, who: Reader, beacon: BeaconDep, cursor: str | None = None,
                  limit: Limit = 50) -> dict:
    """Each status change, newest first: when it took effect, from what to what, and why."""
    monitor = monitor_of(beacon, who, monitor_id)
    rows = beacon.monitor_activity.flips(who.workspace_id, monitor.id,
                                         before=decode_version(cursor), limit=limit + 1)
    return listing(rows, limit, flip_json, lambda r: encode_version(r["version"]))


@router.get("/{monitor_id}/history")
def monitor_history(monitor_id: str, who: Reader, beacon: BeaconDep) -> dict:
    """Every change to the monitor's settings: version, type, when, who, each field before and
    after."""
    monitor = monitor_of(beacon, who, monitor_id)
    return envelope([{**entry, "occurred_at": iso(entry["occurred_at"])}
                     for entry in beacon.monitoring.history(who.workspace_id, monitor.id)])


class SchedulePreview(MonitorSettings):
    """Settings to try (those left out stay as they are) over the signals from `from` to `to`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    since: datetime = Field(alias="from")
    until: datetime = Field(alias="to")


@router.post("/{monitor_id}/schedule/preview")
def preview_schedule(monitor_id: str, body: SchedulePreview, who: Reader,
                     beacon: BeaconDep) -> dict:
    """The flips the given schedule would have produced from the stored signals; changes
    nothing."""
    since, until = utc_moment("from", body.since), utc_moment("to", body.until)
    assert since is not None and until is not None
    if since >= until:
        raise BadRequest("from must be before to", details=[{"field": "from",
                                                             "message": "before to"}])
    monitor = monitor_of(beacon, who, monitor_id)
    settings = {k: v for k, v in body.given().items() if k not in ("since", "until")}
    flips = beacon.monitoring.preview(who.workspace_id, monitor.id, settings, since, until)
    return envelope({"from": iso(since), "to": iso(until),
                     "flips": [flip_json(f) for f in flips]})
