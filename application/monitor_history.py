"""A monitor's past as its operators see it: settings changes, the version at a moment, If-Match."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from domain.errors import MonitorNotFoundError, VersionMismatchError
from domain.monitor import Monitor

CONFIG_EVENTS = (Monitor.Created, Monitor.Reconfigured, Monitor.TokenRotated, Monitor.Paused,
                 Monitor.Resumed, Monitor.Deleted)
CREATED_FIELDS = ("name", "period_seconds", "schedule", "grace_seconds", "max_runtime_seconds",
                  "min_runtime_seconds", "page_slug")


def version_at(events: Iterable[Any], as_of: datetime) -> int:
    """The monitor's version at `as_of` (not found if it did not exist yet)."""
    version = None
    for event in events:
        if event.timestamp > as_of:
            break
        version = event.originator_version
    if version is None:
        raise MonitorNotFoundError("monitor did not exist at that time")
    return version


def check_version(current: int, expected: int | None) -> None:
    """If-Match names the settings version (the ETag); beats do not change it."""
    if expected is not None and expected != current:
        raise VersionMismatchError(
            f"monitor settings are at version {current}, not {expected}",
            details=[{"field": "If-Match", "message": f"current version is {current}"}])


def configuration_history(events: Iterable[Any]) -> list[dict[str, Any]]:
    """One entry per change to the settings (and per pause, resume, rotation, deletion)."""
    return [describe(event) for event in events if isinstance(event, CONFIG_EVENTS)]


def describe(event: Any) -> dict[str, Any]:
    if isinstance(event, Monitor.Created):
        changes = {f: [None, getattr(event, f)] for f in CREATED_FIELDS
                   if getattr(event, f) is not None}
    elif isinstance(event, Monitor.Reconfigured):
        changes = event.changes
    elif isinstance(event, Monitor.Paused | Monitor.Resumed):
        changes = {"status": [event.before, event.after]}
    elif isinstance(event, Monitor.TokenRotated):
        changes = {"token": ["(hidden)", "(hidden)"]}
    else:
        changes = {"deleted": [False, True]}
    return {"version": event.originator_version, "type": type(event).__name__,
            "occurred_at": event.timestamp, "actor": dict(event.actor),
            "changes": [{"field": f, "before": b, "after": a} for f, (b, a) in changes.items()]}
