"""What a public status page shows besides incidents: components by group with their 90-day
uptime bars (the same numbers as the uptime API), maintenance ongoing and upcoming, and the
components each incident affects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID

from projections.components import AffectedComponent, ComponentQueries, ComponentSummary
from projections.maintenance import MaintenanceQueries, MaintenanceSummary
from projections.status_page import HISTORY_DAYS, LABELS, SEVERITY
from projections.uptime import component_uptime

OVERALL_OF_STATUS = {"operational": "operational", "under_maintenance": "operational",
                     "degraded_performance": "degraded", "partial_outage": "degraded",
                     "major_outage": "major_outage"}
UPCOMING_DAYS = 30


@dataclass(frozen=True)
class UptimeBar:
    day: str  # ISO date
    state: str  # none, up, degraded, partial, down or maintenance
    uptime_percent: float | None
    lost_seconds: int  # major + partial + degraded seconds


@dataclass(frozen=True)
class ComponentRow:
    component: ComponentSummary
    status: str  # under_maintenance while a window covers it
    uptime_percent: float | None
    days: list[UptimeBar]


@dataclass(frozen=True)
class PublicMaintenance:
    maintenance: MaintenanceSummary
    updates: list[dict[str, Any]]  # newest first
    components: list[str]  # names


@dataclass(frozen=True)
class PageParts:
    groups: list[tuple[str | None, list[ComponentRow]]]
    ongoing: list[PublicMaintenance]
    upcoming: list[PublicMaintenance]
    affected: dict[UUID, list[AffectedComponent]]

    def overall(self, incidents_overall: str) -> str:
        """The worst of what the incidents and the components say."""
        found = [OVERALL_OF_STATUS[row.status] for _, rows in self.groups for row in rows]
        return max([incidents_overall, *found], key=SEVERITY.index)

    @staticmethod
    def label(overall: str) -> str:
        return LABELS[overall]


def bar_of(interval: dict[str, Any]) -> UptimeBar:
    lost = interval["major_outage_seconds"] + interval["partial_outage_seconds"] + \
        interval["degraded_seconds"]
    if interval["observed_seconds"] == 0:
        state = "none"
    elif interval["major_outage_seconds"]:
        state = "down"
    elif interval["partial_outage_seconds"]:
        state = "partial"
    elif interval["degraded_seconds"]:
        state = "degraded"
    elif interval["maintenance_seconds"]:
        state = "maintenance"
    else:
        state = "up"
    return UptimeBar(interval["from"].date().isoformat(), state, interval["uptime_percent"],
                     int(lost))


def page_parts(components: ComponentQueries, maintenances: MaintenanceQueries,
               workspace_id: UUID, slug: str, weights: dict[str, float], now: datetime,
               incident_ids: list[UUID]) -> PageParts:
    windows = maintenances.on_page(workspace_id, slug, ("scheduled", "in_progress", "verifying"))
    updates = maintenances.updates_for([m.id for m in windows])
    live = components.on_page(workspace_id, slug)
    names = {str(c.id): c.name for c in live}
    ongoing = [m for m in windows if m.state != "scheduled"]
    maintained = {c for m in ongoing for c in m.components}
    lo = datetime.combine(now.astimezone(UTC).date() - timedelta(days=HISTORY_DAYS - 1), time(),
                          tzinfo=UTC)
    groups: dict[str | None, list[ComponentRow]] = {}
    for c in live:
        uptime = component_uptime(components, maintenances, c.id, lo, now, "day", weights, now)
        groups.setdefault(c.group, []).append(ComponentRow(
            c, "under_maintenance" if str(c.id) in maintained else c.status,
            uptime["uptime_percent"], [bar_of(i) for i in uptime["intervals"]]))

    def public(m: MaintenanceSummary) -> PublicMaintenance:
        return PublicMaintenance(m, list(reversed(updates[m.id])),
                                 [names[c] for c in m.components if c in names])

    horizon = now + timedelta(days=UPCOMING_DAYS)
    return PageParts(
        groups=list(groups.items()), ongoing=[public(m) for m in reversed(ongoing)],
        upcoming=[public(m) for m in reversed(windows)
                  if m.state == "scheduled" and m.scheduled_for <= horizon],
        affected=components.affected_by(incident_ids))
