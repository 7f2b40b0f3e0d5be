"""What monitors went through: every signal (beat), every run, every status change with its reason,
and the settings the list and the check need beside the monitors table.

A projection of its own, so that it fills itself from the whole log the first time it runs on a
database whose `monitors` projection is already at the head.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.monitor import Monitor
from domain.monitor_lifecycle import reason_of
from projections.model import (
    BIGINT,
    BOOL,
    DOUBLE,
    TEXT,
    Op,
    Parent,
    Patch,
    Projection,
    Table,
    Upsert,
    micros,
)

MONITOR = (Parent("monitor_id", "rm_monitors"),)  # a monitor's rows: found through its monitor
SETTINGS = Table(
    name="rm_monitor_settings",
    columns={"monitor_id": TEXT, "cron": TEXT, "tz": TEXT, "max_runtime_seconds": BIGINT,
             "min_runtime_seconds": BIGINT},
    primary_key=("monitor_id",),
    parents=MONITOR,
)
BEATS = Table(
    name="rm_monitor_beats",
    columns={"monitor_id": TEXT, "version": BIGINT, "at": BIGINT, "kind": TEXT, "rid": TEXT,
             "exit_status": BIGINT, "value": DOUBLE, "body": TEXT, "reason": TEXT},
    primary_key=("monitor_id", "version"),
    parents=MONITOR,
    indexes=(("monitor_id", "kind", "version"),),
)
RUNS = Table(
    name="rm_monitor_runs",
    columns={"monitor_id": TEXT, "rid_key": TEXT, "started_at": BIGINT, "ended_at": BIGINT,
             "outcome": TEXT, "exit_status": BIGINT, "timed_out": BOOL},
    primary_key=("monitor_id", "started_at", "rid_key"),
    parents=MONITOR,
    indexes=(("outcome", "timed_out"),),
)
FLIPS = Table(
    name="rm_monitor_flips",
    columns={"monitor_id": TEXT, "version": BIGINT, "at": BIGINT, "recorded_at": BIGINT,
             "before": TEXT, "after": TEXT, "reason": TEXT, "rid": TEXT, "exit_status": BIGINT},
    primary_key=("monitor_id", "version"),
    parents=MONITOR,
)
RUNNING = "running"


class MonitorActivityProjection(Projection):
    name = "monitor_activity"
    source = "Monitoring"
    tables = (SETTINGS, BEATS, RUNS, FLIPS)
    topics = tuple(get_topic(cls) for cls in (
        Monitor.Created, Monitor.Reconfigured, Monitor.BeatRecorded, Monitor.RunStarted,
        Monitor.FailureRecorded, Monitor.LogRecorded, Monitor.RunTimedOut, Monitor.StatusChanged,
        Monitor.Flipped, Monitor.Paused, Monitor.Resumed))

    def ops(self, event: Any) -> Iterable[Op]:
        monitor = {"monitor_id": str(event.originator_id)}
        if isinstance(event, Monitor.Created | Monitor.Reconfigured):
            yield from _settings(event, monitor)
        elif isinstance(event, Monitor.StatusChanged):
            yield Upsert(FLIPS.name, {
                **monitor, "version": event.originator_version, "at": micros(event.effective_at),
                "recorded_at": micros(event.timestamp), "before": event.before,
                "after": event.after, "reason": reason_of(event),
                "rid": getattr(event, "rid", None), "exit_status": getattr(event, "exit_status", None)})
        elif isinstance(event, Monitor.RunTimedOut):
            yield Patch(RUNS.name, {**monitor, "rid_key": event.rid or "", "outcome": RUNNING},
                        {"timed_out": True})
        else:
            yield from _signal(event, monitor)


def _settings(event: Any, monitor: dict[str, str]) -> Iterable[Op]:
    if isinstance(event, Monitor.Created):
        values = {f: getattr(event, f) for f in ("schedule", "max_runtime_seconds",
                                                 "min_runtime_seconds")}
    else:
        values = {f: after for f, (_, after) in event.changes.items()
                  if f in ("schedule", "max_runtime_seconds", "min_runtime_seconds")}
        if not values:
            return
    if "schedule" in values:
        schedule = values.pop("schedule") or {}
        values.update(cron=schedule.get("cron"), tz=schedule.get("tz"))
    if isinstance(event, Monitor.Created):
        yield Upsert(SETTINGS.name, {**monitor, **values})
    else:
        yield Patch(SETTINGS.name, monitor, values)


def _signal(event: Any, monitor: dict[str, str]) -> Iterable[Op]:
    kind = {Monitor.BeatRecorded: "success", Monitor.RunStarted: "start",
            Monitor.FailureRecorded: "fail", Monitor.LogRecorded: "log"}[
        next(c for c in (Monitor.BeatRecorded, Monitor.RunStarted, Monitor.FailureRecorded,
                         Monitor.LogRecorded) if isinstance(event, c))]
    at, rid = micros(event.timestamp), getattr(event, "rid", None)
    exit_status = getattr(event, "exit_status", None)
    yield Upsert(BEATS.name, {
        **monitor, "version": event.originator_version, "at": at, "kind": kind, "rid": rid,
        "exit_status": exit_status, "value": getattr(event, "value", None),
        "body": getattr(event, "body", None), "reason": getattr(event, "reason", None)})
    run = {**monitor, "rid_key": rid or ""}
    if kind == "start":  # a start under a rid still running restarts it: the old run is abandoned
        yield Patch(RUNS.name, {**run, "outcome": RUNNING}, {"outcome": "abandoned"})
        yield Upsert(RUNS.name, {**run, "started_at": at, "ended_at": None, "outcome": RUNNING,
                                 "exit_status": None, "timed_out": False})
    elif kind in ("success", "fail") and getattr(event, "started_at", None) is not None:
        outcome = "success" if kind == "success" else getattr(event, "reason", "fail")
        yield Patch(RUNS.name, {**run, "started_at": micros(event.started_at)},
                    {"ended_at": at, "outcome": outcome, "exit_status": exit_status})


class MonitorActivityQueries(ABC):
    """What the monitor activity read model can answer, for one workspace's monitors."""

    @abstractmethod
    def beats(self, workspace_id: UUID, monitor_id: UUID, *, kind: str | None, before: int | None,
              limit: int) -> list[dict[str, Any]]:
        """Signals newest first, below version `before` when given."""

    @abstractmethod
    def runs(self, workspace_id: UUID, monitor_id: UUID, *, before: tuple[int, str] | None,
             limit: int) -> list[dict[str, Any]]:
        """Runs newest first, before the (started_at, rid_key) `before` when given."""

    @abstractmethod
    def flips(self, workspace_id: UUID, monitor_id: UUID, *, before: int | None,
              limit: int) -> list[dict[str, Any]]:
        """Status changes newest first, below version `before` when given."""

    @abstractmethod
    def latest(self, what: str, workspace_id: UUID, monitor_ids: list[UUID], limit: int,
               kind: str | None = None) -> dict[UUID, list[dict[str, Any]]]:
        """The latest `limit` beats (of one `kind` when given), runs or flips (`what`) of each
        of many monitors."""
