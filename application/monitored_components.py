"""What follows the monitor checks on status pages: maintenance whose time has come starts or
completes, and components linked to a monitor follow it (major outage while it is down,
operational when beats resume).

The reaction compares what the read models say (each linked component's status, its monitor's
status) and asks the status-pages context to change only the components that disagree, effective
when the monitor's status changed. It runs with the monitor checks; every step is idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol
from uuid import UUID

from application.statuspages import StatusPagesApplication
from domain.actor import Actor
from domain.component import MONITOR
from domain.monitor import Monitor

MONITORING: Actor = {"key_id": None, "name": "monitoring"}
log = logging.getLogger("beacon.status_upkeep")


@dataclass(frozen=True)
class LinkedComponent:
    """A live component linked to a monitor, and that monitor's status as the read models say."""

    component_id: UUID
    status: str
    status_cause: str
    monitor_id: UUID
    monitor_status: str | None  # None: the monitor is gone
    monitor_since: datetime | None


class MonitorLinks(Protocol):
    """The read side this reaction needs (implemented over the read models)."""

    def linked_components(self) -> list[LinkedComponent]: ...

    def under_maintenance(self, monitor_id: UUID) -> bool: ...


class DueMaintenance(Protocol):
    """Finds maintenance whose automatic start or completion time has come."""

    def due(self, now: datetime, limit: int = 1000) -> list[UUID]: ...


def out_of_step(links: Iterable[LinkedComponent],
                maintained: Callable[[UUID], bool]) -> list[tuple[LinkedComponent, bool]]:
    """The components to change, each with whether its monitor is down. A monitor under
    maintenance does not take its components down (they show under_maintenance meanwhile)."""
    found = []
    for link in links:
        down = link.monitor_status == "down"
        if down and link.status != "major_outage" and not maintained(link.monitor_id):
            found.append((link, True))
        elif not down and link.status_cause == MONITOR and link.status != "operational":
            found.append((link, False))
    return found


def follow_monitors(statuspages: StatusPagesApplication, links: MonitorLinks,
                    fresh: Iterable[Monitor] = ()) -> int:
    """Bring linked components in step with their monitors (the `fresh` ones as just decided,
    which the read models may not show yet); returns how many changed."""
    known = {m.id: m for m in fresh}
    current = [replace(link, monitor_status=known[link.monitor_id].status,
                       monitor_since=known[link.monitor_id].status_since)
               if link.monitor_id in known else link for link in links.linked_components()]
    changed = 0
    for link, down in out_of_step(current, links.under_maintenance):
        if link.monitor_since is not None and statuspages.follow_monitor(
                link.component_id, down=down, since=link.monitor_since, actor=MONITORING):
            changed += 1
    return changed


@dataclass
class StatusUpkeep:
    """Runs after each monitor check (the `check_monitors` job)."""

    statuspages: StatusPagesApplication
    links: MonitorLinks
    maintenance: DueMaintenance

    def run(self, checked: Iterable[Monitor] = ()) -> int:
        """Advance due maintenance, then bring linked components in step with their monitors
        (`checked`: the monitors this check just decided); returns how many components changed."""
        for maintenance_id in self.maintenance.due(self.statuspages.clock()):
            try:
                self.statuspages.advance_maintenance(maintenance_id)
            except Exception:  # one window's trouble must not hold up the others
                log.exception("advancing maintenance %s failed", maintenance_id)
        return follow_monitors(self.statuspages, self.links, checked)
