"""SQL for the monitors read model."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from infrastructure.database import Database
from projections.model import from_micros, micros
from projections.monitors import MONITORS, OUTAGES, MonitorQueries, MonitorSummary, Outage


class SqlMonitorQueries(MonitorQueries):
    def __init__(self, db: Database):
        self.db = db

    def due_for_check(self, now: datetime, limit: int = 1000) -> list[UUID]:
        rows = self.db.query(
            f"SELECT id FROM {MONITORS.name} "
            "WHERE (status IN ('up', 'late') AND late_at <= %s) "
            "OR (status = 'down' AND page_slug IS NOT NULL AND incident_id IS NULL) "
            "OR (status <> 'down' AND incident_id IS NOT NULL) "
            "ORDER BY late_at, id LIMIT %s", [micros(now), limit])
        return [UUID(row["id"]) for row in rows]

    def on_page(self, workspace_id: UUID, page_slug: str) -> list[MonitorSummary]:
        rows = self.db.query(
            f"SELECT id, name, status, last_beat_at, created_at FROM {MONITORS.name} "
            "WHERE workspace_id = %s AND page_slug = %s ORDER BY name, id",
            [str(workspace_id), page_slug])
        return [MonitorSummary(id=UUID(r["id"]), name=r["name"], status=r["status"],
                               last_beat_at=from_micros(r["last_beat_at"]),
                               created_at=from_micros(r["created_at"]))  # type: ignore[arg-type]
                for r in rows]

    def outages_since(self, monitor_ids: list[UUID], since: datetime) -> dict[UUID, list[Outage]]:
        found: dict[UUID, list[Outage]] = {i: [] for i in monitor_ids}
        if not monitor_ids:
            return found
        marks = ", ".join(["%s"] * len(monitor_ids))
        rows = self.db.query(
            f"SELECT * FROM {OUTAGES.name} WHERE monitor_id IN ({marks}) "
            "AND (ended_at IS NULL OR ended_at >= %s) ORDER BY started_at",
            [*(str(i) for i in monitor_ids), micros(since)])
        for row in rows:
            found[UUID(row["monitor_id"])].append(Outage(
                started_at=from_micros(row["started_at"]),  # type: ignore[arg-type]
                ended_at=from_micros(row["ended_at"])))
        return found
