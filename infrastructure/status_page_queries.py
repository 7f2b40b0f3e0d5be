"""SQL behind the public status page: the page by slug, its incidents, its monitors' outages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from infrastructure.database import Database
from infrastructure.incident_queries import SqlIncidentQueries, incident_summary
from projections.incidents import INCIDENTS
from projections.model import micros
from projections.monitors import MonitorQueries
from projections.pages import PAGES
from projections.status_page import (
    HISTORY_DAYS,
    MonitorUptime,
    PublicIncident,
    StatusPageQueries,
    StatusPageView,
    overall_status,
    uptime_days,
)

MAX_ACTIVE, MAX_HISTORY = 50, 200


class SqlStatusPageQueries(StatusPageQueries):
    def __init__(self, db: Database, monitors: MonitorQueries):
        self.db = db
        self.incidents = SqlIncidentQueries(db)
        self.monitors = monitors

    def pages_of(self, workspace_id: UUID) -> list[dict[str, Any]]:
        return self.db.query(f"SELECT slug, name, created_at FROM {PAGES.name} WHERE workspace_id = %s "
                             "ORDER BY created_at, slug", [str(workspace_id)])

    def status_page(self, slug: str, now: datetime) -> StatusPageView | None:
        pages = self.db.query(f"SELECT * FROM {PAGES.name} WHERE slug = %s "
                              "ORDER BY created_at, id LIMIT 1", [slug])
        if not pages:
            return None
        page = pages[0]
        since = now - timedelta(days=HISTORY_DAYS)
        where = f"SELECT * FROM {INCIDENTS.name} WHERE workspace_id = %s AND page_slug = %s"
        scope = [page["workspace_id"], slug]
        active = self._with_updates(self.db.query(
            f"{where} AND resolved = %s ORDER BY created_at DESC, id DESC LIMIT %s",
            [*scope, False, MAX_ACTIVE]))
        history = self._with_updates(self.db.query(
            f"{where} AND resolved = %s AND resolved_at >= %s "
            "ORDER BY resolved_at DESC, id DESC LIMIT %s",
            [*scope, True, micros(since), MAX_HISTORY]))
        return StatusPageView(
            slug=slug, name=page["name"], active=active, history=history,
            overall=overall_status(i.incident.impact for i in active),
            monitors=self._uptime(UUID(page["workspace_id"]), slug, since, now),
            generated_at=now, workspace_id=UUID(page["workspace_id"]))

    def _with_updates(self, rows: list[dict[str, Any]]) -> list[PublicIncident]:
        summaries = [incident_summary(row) for row in rows]
        updates = self.incidents.updates_for([s.id for s in summaries])
        return [PublicIncident(s, list(reversed(updates[s.id]))) for s in summaries]

    def _uptime(self, workspace_id: UUID, slug: str, since: datetime,
                now: datetime) -> list[MonitorUptime]:
        monitors = self.monitors.on_page(workspace_id, slug)
        outages = self.monitors.outages_since([m.id for m in monitors], since)
        uptime = []
        for monitor in monitors:
            days, percent = uptime_days(monitor.created_at, outages[monitor.id], now)
            uptime.append(MonitorUptime(monitor, days, percent))
        return uptime
