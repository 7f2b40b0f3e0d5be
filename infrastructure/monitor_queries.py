"""SQL for the monitors read model."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from infrastructure.database import Database
from projections.model import from_micros, micros
from projections.monitor_activity import RUNNING, RUNS, SETTINGS
from projections.monitors import (
    MONITORS,
    OUTAGES,
    MonitorPage,
    MonitorQueries,
    MonitorRow,
    MonitorSummary,
    Outage,
)

# Monitors with a run open past their max runtime that the check has not timed out yet.
OVERRUN_RUNS = (
    f"SELECT r.monitor_id FROM {RUNS.name} r JOIN {SETTINGS.name} s ON s.monitor_id = r.monitor_id "
    f"WHERE r.outcome = '{RUNNING}' AND NOT r.timed_out AND s.max_runtime_seconds IS NOT NULL "
    "AND r.started_at + s.max_runtime_seconds * 1000000 <= %s")


def monitor_row(r: dict[str, Any]) -> MonitorRow:
    return MonitorRow(
        id=UUID(r["id"]), name=r["name"], status=r["status"],
        status_since=from_micros(r["status_since"]),  # type: ignore[arg-type]
        period_seconds=r["period_seconds"],
        schedule={"cron": r["cron"], "tz": r["tz"]} if r["cron"] else None,
        grace_seconds=r["grace_seconds"], max_runtime_seconds=r["max_runtime_seconds"],
        min_runtime_seconds=r["min_runtime_seconds"], page_slug=r["page_slug"],
        last_beat_at=from_micros(r["last_beat_at"]), next_expected_at=from_micros(r["late_at"]),
        down_at=from_micros(r["down_at"]),
        incident_id=UUID(r["incident_id"]) if r["incident_id"] else None,
        created_at=from_micros(r["created_at"]))  # type: ignore[arg-type]


class SqlMonitorQueries(MonitorQueries):
    def __init__(self, db: Database):
        self.db = db

    def due_for_check(self, now: datetime, limit: int = 1000) -> list[UUID]:
        rows = self.db.query(
            f"SELECT id FROM {MONITORS.name} "
            "WHERE (status IN ('up', 'late') AND late_at <= %s) "
            "OR (status = 'down' AND page_slug IS NOT NULL AND incident_id IS NULL) "
            "OR (status <> 'down' AND incident_id IS NOT NULL) "
            f"OR (status NOT IN ('paused', 'deleted') AND id IN ({OVERRUN_RUNS})) "
            "ORDER BY late_at, id LIMIT %s", [micros(now), micros(now), limit])
        return [UUID(row["id"]) for row in rows]

    def list_monitors(self, workspace_id: UUID, *, status: str | None,
                      after: tuple[int, str] | None, limit: int) -> MonitorPage:
        where = ["m.workspace_id = %s", "m.status <> 'deleted'"]
        params: list[Any] = [str(workspace_id)]
        if status is not None:
            where.append("m.status = %s")
            params.append(status)
        if after is not None:
            where.append("(m.created_at < %s OR (m.created_at = %s AND m.id < %s))")
            params += [after[0], after[0], after[1]]
        rows = self.db.query(
            f"SELECT m.*, s.cron, s.tz, s.max_runtime_seconds, s.min_runtime_seconds "
            f"FROM {MONITORS.name} m LEFT JOIN {SETTINGS.name} s ON s.monitor_id = m.id "
            f"WHERE {' AND '.join(where)} ORDER BY m.created_at DESC, m.id DESC LIMIT %s",
            [*params, limit + 1])
        items = [monitor_row(r) for r in rows[:limit]]
        more = len(rows) > limit
        last = rows[limit - 1] if more else None
        return MonitorPage(items=items, has_more=more,
                           next_cursor=(last["created_at"], last["id"]) if last else None)

    def on_page(self, workspace_id: UUID, page_slug: str) -> list[MonitorSummary]:
        rows = self.db.query(
            f"SELECT id, name, status, last_beat_at, created_at FROM {MONITORS.name} "
            "WHERE workspace_id = %s AND page_slug = %s AND status <> 'deleted' ORDER BY name, id",
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
