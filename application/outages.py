"""Outage incidents: a monitor linked to a page that goes down opens an incident there, and closes it
when its beats resume. Every step is idempotent, so a job that dies half-way is simply run again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from uuid import UUID

from application.monitoring import MonitoringApplication
from application.statuspages import StatusPagesApplication
from domain.actor import Actor
from domain.errors import NotFoundError
from domain.ids import outage_incident_id
from domain.monitor import Monitor

log = logging.getLogger("beacon.outages")
MONITORING: Actor = {"key_id": None, "name": "monitoring"}


class OutageIncidents:
    """Keeps a page's incidents in step with the monitors shown on it."""

    def __init__(self, monitoring: MonitoringApplication, statuspages: StatusPagesApplication,
                 under_maintenance: Callable[[UUID], bool] = lambda monitor_id: False):
        self.monitoring = monitoring
        self.statuspages = statuspages
        # Maintenance in progress covering a monitor: its outage opens no incident (and so
        # alerts nobody); if it is still down when the maintenance ends, one opens then.
        self.under_maintenance = under_maintenance

    def check(self, monitor_id: UUID) -> Monitor:
        """Evaluate a monitor's deadlines, then open or close its outage incident as needed."""
        monitor = self.monitoring.check_overdue(monitor_id)
        return self.reconcile(monitor)

    def reconcile(self, monitor: Monitor) -> Monitor:
        """Open the outage incident of a monitor that is down, close the one it has outlived."""
        try:
            if monitor.needs_incident and not self.under_maintenance(monitor.id):
                return self._open(monitor)
            if monitor.incident_outlived:
                return self._close(monitor)
        except NotFoundError as error:  # the page (or the incident) went away: nothing to show it on
            log.warning("monitor %s: %s", monitor.id, error.message)
        return monitor

    def _open(self, monitor: Monitor) -> Monitor:
        incident = self.statuspages.open_incident(
            monitor.workspace_id, str(monitor.page_slug), title=f"{monitor.name} is down",
            impact="major", state="investigating", actor=MONITORING,
            message=f"Monitor “{monitor.name}” stopped sending heartbeats. We are investigating.",
            incident_id=outage_incident_id(monitor.id, monitor.status_since))
        return self.monitoring.link_incident(monitor.id, incident.id)

    def _close(self, monitor: Monitor) -> Monitor:
        assert monitor.incident_id is not None
        message = {"up": f"Monitor “{monitor.name}” is sending heartbeats again.",
                   "deleted": f"Monitor “{monitor.name}” was deleted."}.get(
            monitor.status, f"Monitor “{monitor.name}” was paused.")
        self.statuspages.close_incident(monitor.workspace_id, monitor.incident_id,
                                        message=message, actor=MONITORING)
        return self.monitoring.unlink_incident(monitor.id)
