"""The read side of components that follow monitors: links from the status pages' read models,
monitor statuses from the monitoring read models (another database in the embedded default)."""

from __future__ import annotations

from uuid import UUID

from application.monitored_components import LinkedComponent
from infrastructure.database import Database
from projections.components import COMPONENTS
from projections.maintenance import MAINTENANCES, TARGETS
from projections.model import from_micros
from projections.monitors import MONITORS


class SqlMonitorLinks:
    def __init__(self, statuspages: Database, monitoring: Database):
        self.statuspages = statuspages
        self.monitoring = monitoring

    def linked_components(self) -> list[LinkedComponent]:
        rows = self.statuspages.query(
            f"SELECT id, status, status_cause, monitor_id FROM {COMPONENTS.name} "
            "WHERE monitor_id IS NOT NULL AND archived_at IS NULL ORDER BY id")
        if not rows:
            return []
        monitor_ids = sorted({r["monitor_id"] for r in rows})
        monitors = {m["id"]: m for m in self.monitoring.query(
            f"SELECT id, status, status_since FROM {MONITORS.name} "
            f"WHERE id IN ({', '.join(['%s'] * len(monitor_ids))})", monitor_ids)}
        return [LinkedComponent(
            component_id=UUID(r["id"]), status=r["status"], status_cause=r["status_cause"],
            monitor_id=UUID(r["monitor_id"]),
            monitor_status=monitors[r["monitor_id"]]["status"] if r["monitor_id"] in monitors
            else None,
            monitor_since=from_micros(monitors[r["monitor_id"]]["status_since"])
            if r["monitor_id"] in monitors else None) for r in rows]

    def under_maintenance(self, monitor_id: UUID) -> bool:
        """Maintenance in progress covers the monitor, or a component linked to it."""
        rows = self.statuspages.query(
            f"SELECT m.id FROM {MAINTENANCES.name} m JOIN {TARGETS.name} t "
            "ON t.maintenance_id = m.id WHERE m.state IN (%s, %s) AND (t.target_id = %s OR "
            f"t.target_id IN (SELECT id FROM {COMPONENTS.name} WHERE monitor_id = %s)) LIMIT 1",
            ["in_progress", "verifying", str(monitor_id), str(monitor_id)])
        return bool(rows)
