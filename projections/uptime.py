"""Uptime over any range, from the full history of statuses and maintenance windows.

A second of a component's life is under maintenance if a maintenance window covering it was in
progress (or the component was set to under_maintenance); otherwise it counts by its status.
Maintenance is left out of the ratio, neither up nor down:

    uptime_percent = 100 × (1 − (major + w_partial × partial + w_degraded × degraded)
                                 / (observed − maintenance))

with the page's weights (partial outage 0.3 and degraded performance 0 unless the page says
otherwise). Pure functions; the rows come from the read models.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID

from projections.components import ComponentQueries, StatusChange
from projections.maintenance import MaintenanceQueries, Window
from projections.monitors import MonitorQueries, Outage

INTERVALS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
MAX_INTERVALS = 5_000
COUNTED = {"major_outage": "major_outage_seconds", "partial_outage": "partial_outage_seconds",
           "degraded_performance": "degraded_seconds"}


@dataclass(frozen=True)
class Span:
    started_at: datetime
    ended_at: datetime
    status: str


@dataclass
class Tally:
    """Seconds of one range, by what they count as."""

    started_at: datetime
    ended_at: datetime
    observed_seconds: float = 0.0
    major_outage_seconds: float = 0.0
    partial_outage_seconds: float = 0.0
    degraded_seconds: float = 0.0
    maintenance_seconds: float = 0.0
    weights: dict[str, float] = field(default_factory=dict)

    @property
    def uptime_percent(self) -> float | None:
        counted = self.observed_seconds - self.maintenance_seconds
        if counted <= 0:
            return None
        lost = (self.major_outage_seconds
                + self.weights.get("partial_outage", 0.3) * self.partial_outage_seconds
                + self.weights.get("degraded_performance", 0.0) * self.degraded_seconds)
        return round(100 * (1 - lost / counted), 4)

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.started_at, "to": self.ended_at,
                "uptime_percent": self.uptime_percent,
                **{name: round(getattr(self, name), 3) for name in (
                    "observed_seconds", "major_outage_seconds", "partial_outage_seconds",
                    "degraded_seconds", "maintenance_seconds")}}


def component_spans(changes: list[StatusChange], until: datetime) -> list[Span]:
    """The status periods of a component: each change holds until the next takes effect."""
    ordered = sorted(changes, key=lambda c: (c.effective_at, c.version))
    if not ordered:
        return []
    ends = [c.effective_at for c in ordered[1:]] + [until]
    return [Span(c.effective_at, end, c.status) for c, end in zip(ordered, ends, strict=True)
            if end > c.effective_at]


def monitor_spans(created_at: datetime, outages: list[Outage], until: datetime) -> list[Span]:
    """A monitor's periods: major outage while down, operational otherwise."""
    spans, cursor = [], created_at
    for outage in sorted(outages, key=lambda o: o.started_at):
        end = min(outage.ended_at or until, until)
        if outage.started_at > cursor:
            spans.append(Span(cursor, outage.started_at, "operational"))
        if end > outage.started_at:
            spans.append(Span(max(outage.started_at, cursor), end, "major_outage"))
        cursor = max(cursor, end)
    if until > cursor:
        spans.append(Span(cursor, until, "operational"))
    return spans


def merged(windows: list[Window], until: datetime) -> list[tuple[datetime, datetime]]:
    """Maintenance windows as disjoint, sorted periods."""
    periods = sorted((w.started_at, min(w.ended_at or until, until)) for w in windows)
    out: list[tuple[datetime, datetime]] = []
    for start, end in periods:
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _overlap(a: datetime, b: datetime, lo: datetime, hi: datetime) -> float:
    return max(0.0, (min(b, hi) - max(a, lo)).total_seconds())


def tally(spans: list[Span], maintenance: list[tuple[datetime, datetime]], lo: datetime,
          hi: datetime, weights: dict[str, float]) -> Tally:
    """Count [lo, hi): each span's seconds outside maintenance by status, the rest maintenance."""
    result = Tally(lo, hi, weights=weights)
    for span in spans:
        a, b = max(span.started_at, lo), min(span.ended_at, hi)
        if b <= a:
            continue
        seconds = (b - a).total_seconds()
        under = sum(_overlap(s, e, a, b) for s, e in maintenance)
        result.observed_seconds += seconds
        if span.status == "under_maintenance":
            result.maintenance_seconds += seconds
            continue
        result.maintenance_seconds += under
        if span.status in COUNTED:
            name = COUNTED[span.status]
            setattr(result, name, getattr(result, name) + seconds - under)
    return result


def boundaries(lo: datetime, hi: datetime, interval: str) -> Iterator[tuple[datetime, datetime]]:
    """[lo, hi) cut at UTC interval edges (days and weeks start at midnight, weeks on Monday)."""
    step = INTERVALS[interval]
    start = lo.astimezone(UTC)
    if interval == "hour":
        edge = start.replace(minute=0, second=0, microsecond=0)
    else:
        edge = datetime.combine(start.date(), time(), tzinfo=UTC)
        if interval == "week":
            edge -= timedelta(days=edge.weekday())
    while edge < hi:
        a, edge = max(edge, start), edge + step
        yield a, min(edge, hi)


def uptime(spans: list[Span], windows: list[Window], lo: datetime, hi: datetime,
           interval: str | None, weights: dict[str, float], now: datetime) -> dict[str, Any]:
    """The totals over [lo, hi) and, if asked, one tally per interval."""
    maintenance = merged(windows, now)
    body = tally(spans, maintenance, lo, hi, weights).as_dict()
    if interval is not None:
        body["intervals"] = [tally(spans, maintenance, a, b, weights).as_dict()
                             for a, b in boundaries(lo, hi, interval)]
    return body


def component_uptime(components: ComponentQueries, maintenances: MaintenanceQueries,
                     component_id: UUID, lo: datetime, hi: datetime, interval: str | None,
                     weights: dict[str, float], now: datetime,
                     archived_at: datetime | None = None) -> dict[str, Any]:
    """A component's uptime over [lo, hi): its status changes under its maintenance windows."""
    changes = components.status_changes([component_id])[component_id]
    spans = component_spans(changes, until=min(now, archived_at or now))
    return uptime(spans, maintenances.windows([str(component_id)]), lo, hi, interval, weights,
                  now)


def monitor_uptime(monitors: MonitorQueries, components: ComponentQueries,
                   maintenances: MaintenanceQueries, monitor_id: UUID, created_at: datetime,
                   lo: datetime, hi: datetime, interval: str | None, weights: dict[str, float],
                   now: datetime) -> dict[str, Any]:
    """A monitor's uptime: down is a major outage, except under maintenance of the monitor or of
    a component linked to it."""
    outages = monitors.outages_since([monitor_id], created_at)[monitor_id]
    targets = [str(monitor_id), *(str(c) for c in components.linked_to(monitor_id))]
    return uptime(monitor_spans(created_at, outages, now), maintenances.windows(targets), lo, hi,
                  interval, weights, now)
