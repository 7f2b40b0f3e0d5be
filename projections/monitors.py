"""The monitors read model: one row per monitor with its deadlines, and one per outage (down period)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.monitor import Monitor
from projections.model import BIGINT, TEXT, Op, Parent, Patch, Projection, Table, Upsert, micros

MONITORS = Table(
    name="rm_monitors",
    columns={"id": TEXT, "workspace_id": TEXT, "name": TEXT, "page_slug": TEXT, "status": TEXT,
             "status_since": BIGINT, "period_seconds": BIGINT, "grace_seconds": BIGINT,
             "last_beat_at": BIGINT, "late_at": BIGINT, "down_at": BIGINT, "incident_id": TEXT,
             "created_at": BIGINT},
    primary_key=("id",),
    indexes=(("status", "late_at"), ("workspace_id", "page_slug")),
)
OUTAGES = Table(
    name="rm_monitor_outages",
    columns={"monitor_id": TEXT, "started_at": BIGINT, "ended_at": BIGINT},
    primary_key=("monitor_id", "started_at"),
    parents=(Parent("monitor_id", "rm_monitors"),),
)


def _at(moment: datetime | None) -> int | None:
    return micros(moment) if moment is not None else None


class MonitorsProjection(Projection):
    name = "monitors"
    source = "Monitoring"
    tables = (MONITORS, OUTAGES)
    topics = tuple(get_topic(cls) for cls in (
        Monitor.Created, Monitor.BeatRecorded, Monitor.StatusChanged, Monitor.Paused,
        Monitor.Resumed, Monitor.IncidentOpened, Monitor.IncidentClosed, Monitor.Flipped,
        Monitor.Reconfigured, Monitor.Deleted))

    def ops(self, event: Any) -> Iterable[Op]:
        key = {"id": str(event.originator_id)}
        if isinstance(event, Monitor.Created):
            yield Upsert(MONITORS.name, {
                **key, "workspace_id": str(event.workspace_id), "name": event.name,
                "page_slug": event.page_slug, "status": "new",
                "status_since": micros(event.timestamp), "period_seconds": event.period_seconds,
                "grace_seconds": event.grace_seconds, "last_beat_at": None, "late_at": None,
                "down_at": None, "incident_id": None, "created_at": micros(event.timestamp)})
        elif isinstance(event, Monitor.BeatRecorded):
            yield Patch(MONITORS.name, key, {"last_beat_at": micros(event.timestamp),
                                             "late_at": _at(event.late_at),
                                             "down_at": _at(event.down_at)})
        elif isinstance(event, Monitor.StatusChanged):
            values: dict[str, Any] = {"status": event.after,
                                      "status_since": micros(event.effective_at)}
            if isinstance(event, Monitor.Resumed):
                values.update(late_at=_at(event.late_at), down_at=_at(event.down_at))
            elif isinstance(event, Monitor.Paused):
                values.update(late_at=None, down_at=None)
            yield Patch(MONITORS.name, key, values)
            monitor = {"monitor_id": key["id"]}
            if event.after == "down":
                yield Upsert(OUTAGES.name, {**monitor, "started_at": micros(event.effective_at),
                                            "ended_at": None})
            if event.before == "down":
                yield Patch(OUTAGES.name, {**monitor, "started_at": micros(event.since)},
                            {"ended_at": micros(event.effective_at)})
        elif isinstance(event, Monitor.Reconfigured):
            values = {f: after for f, (_, after) in event.changes.items()
                      if f in MONITORS.columns}
            yield Patch(MONITORS.name, key, {**values, "late_at": _at(event.late_at),
                                             "down_at": _at(event.down_at)})
        elif isinstance(event, Monitor.Deleted):
            yield Patch(MONITORS.name, key, {"status": "deleted", "status_since":
                                             micros(event.timestamp), "late_at": None,
                                             "down_at": None})
        elif isinstance(event, Monitor.IncidentOpened):
            yield Patch(MONITORS.name, key, {"incident_id": str(event.incident_id)})
        elif isinstance(event, Monitor.IncidentClosed):
            yield Patch(MONITORS.name, key, {"incident_id": None})


@dataclass(frozen=True)
class MonitorSummary:
    id: UUID
    name: str
    status: str
    last_beat_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class MonitorRow:
    """A monitor as the list shows it (settings of `monitor_activity` joined in)."""

    id: UUID
    name: str
    status: str
    status_since: datetime
    period_seconds: int | None
    schedule: dict[str, str] | None
    grace_seconds: int | None
    max_runtime_seconds: int | None
    min_runtime_seconds: int | None
    page_slug: str | None
    last_beat_at: datetime | None
    next_expected_at: datetime | None
    down_at: datetime | None
    incident_id: UUID | None
    created_at: datetime

    @classmethod
    def of(cls, monitor: Monitor) -> MonitorRow:
        """The row a monitor's events have made (read from the aggregate itself)."""
        return cls(id=monitor.id, created_at=monitor.created_on,
                   next_expected_at=monitor.late_at,
                   **{f: getattr(monitor, f) for f in ROW_FIELDS_OF_MONITOR})


ROW_FIELDS_OF_MONITOR = ("name", "status", "status_since", "period_seconds", "schedule",
                         "grace_seconds", "max_runtime_seconds", "min_runtime_seconds",
                         "page_slug", "last_beat_at", "down_at", "incident_id")


@dataclass(frozen=True)
class MonitorPage:
    items: list[MonitorRow]
    has_more: bool
    next_cursor: tuple[int, str] | None


@dataclass(frozen=True)
class Outage:
    started_at: datetime
    ended_at: datetime | None  # None while still down


class MonitorQueries(ABC):
    """What the monitors read model can answer."""

    @abstractmethod
    def due_for_check(self, now: datetime, limit: int = 1000) -> list[UUID]:
        """Monitors whose deadline has passed, or whose outage incident needs opening or closing."""

    @abstractmethod
    def list_monitors(self, workspace_id: UUID, *, status: str | None,
                      after: tuple[int, str] | None, limit: int) -> MonitorPage:
        """A workspace's monitors (deleted ones left out), newest first, after a cursor."""

    @abstractmethod
    def on_page(self, workspace_id: UUID, page_slug: str) -> list[MonitorSummary]:
        """The monitors linked to a page, by name."""

    @abstractmethod
    def outages_since(self, monitor_ids: list[UUID], since: datetime) -> dict[UUID, list[Outage]]:
        """Down periods of many monitors that were still going on at or after `since`."""
