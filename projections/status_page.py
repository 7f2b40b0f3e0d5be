"""What a visitor of a public status page sees: the overall status, incidents and 90 days of uptime.

Pure functions over read-model rows; the SQL that fetches them lives in infrastructure.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from projections.incidents import IncidentSummary
from projections.monitors import MonitorSummary, Outage

HISTORY_DAYS = 90
OVERALL_OF_IMPACT = {"none": "operational", "minor": "degraded", "major": "major_outage",
                     "critical": "major_outage"}
SEVERITY = ("operational", "degraded", "major_outage")
LABELS = {"operational": "All systems operational", "degraded": "Degraded performance",
          "major_outage": "Major outage"}


@dataclass(frozen=True)
class UptimeDay:
    day: date
    state: str  # up, down, or none (the monitor did not exist yet)
    down_seconds: int


@dataclass(frozen=True)
class MonitorUptime:
    monitor: MonitorSummary
    days: list[UptimeDay]
    uptime_percent: float | None  # None when nothing was observed


@dataclass(frozen=True)
class PublicIncident:
    incident: IncidentSummary
    updates: list[dict[str, Any]]  # newest first


@dataclass(frozen=True)
class StatusPageView:
    slug: str
    name: str
    overall: str
    active: list[PublicIncident]
    history: list[PublicIncident]
    monitors: list[MonitorUptime]
    generated_at: datetime
    workspace_id: UUID | None = None
    label: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", LABELS[self.overall])


def overall_status(impacts: Iterable[str]) -> str:
    """The worst status the active incidents' impacts imply; operational when there are none."""
    found = [OVERALL_OF_IMPACT[i] for i in impacts]
    return max(found, key=SEVERITY.index, default="operational")


def _overlap(start: datetime, end: datetime, lo: datetime, hi: datetime) -> float:
    return max(0.0, (min(end, hi) - max(start, lo)).total_seconds())


def uptime_days(created_at: datetime, outages: list[Outage], now: datetime,
                days: int = HISTORY_DAYS) -> tuple[list[UptimeDay], float | None]:
    """One segment per UTC day, oldest first and today last; a day with any downtime is down."""
    today = now.astimezone(UTC).date()
    segments: list[UptimeDay] = []
    observed = down_total = 0.0
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        lo = max(datetime.combine(day, time(), tzinfo=UTC), created_at)
        hi = min(datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC), now)
        if hi <= lo:
            segments.append(UptimeDay(day, "none", 0))
            continue
        down = sum(_overlap(o.started_at, o.ended_at or now, lo, hi) for o in outages)
        observed += (hi - lo).total_seconds()
        down_total += down
        segments.append(UptimeDay(day, "down" if down > 0 else "up", int(down)))
    percent = round(100 * (1 - down_total / observed), 2) if observed else None
    return segments, percent


class StatusPageQueries(ABC):
    """What the public status page reads."""

    @abstractmethod
    def status_page(self, slug: str, now: datetime) -> StatusPageView | None:
        """The page with this slug (the first created, if several workspaces use it), or None."""

    @abstractmethod
    def pages_of(self, workspace_id: UUID) -> list[dict[str, Any]]:
        """A workspace's pages (slug, name, created_at µs), oldest first."""
