"""SQL for the components and maintenance read models. Portable statements; `Database` adapts
placeholders."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from infrastructure.database import Database, Row
from infrastructure.incident_queries import timelines
from projections.components import (
    COMPONENTS,
    INCIDENT_COMPONENTS,
    STATUS_CHANGES,
    AffectedComponent,
    ComponentQueries,
    ComponentSummary,
    StatusChange,
)
from projections.maintenance import (
    MAINTENANCES,
    TARGETS,
    UPDATES,
    MaintenanceQueries,
    MaintenanceSummary,
    Window,
)
from projections.model import from_micros, micros


def _marks(values: list[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _at(value: int) -> datetime:
    moment = from_micros(value)
    assert moment is not None
    return moment


def component_summary(row: Row) -> ComponentSummary:
    return ComponentSummary(
        id=UUID(row["id"]), workspace_id=UUID(row["workspace_id"]), page_slug=row["page_slug"],
        name=row["name"], group=row["group_name"], description=row["description"],
        position=int(row["position"]),
        monitor_id=UUID(row["monitor_id"]) if row["monitor_id"] else None,
        status=row["status"], created_at=_at(row["created_at"]),
        updated_at=_at(row["updated_at"]), archived_at=from_micros(row["archived_at"]),
        version=int(row["version"]))


class SqlComponentQueries(ComponentQueries):
    def __init__(self, db: Database):
        self.db = db

    def on_page(self, workspace_id: UUID, page_slug: str,
                archived: bool = False) -> list[ComponentSummary]:
        rows = self.db.query(
            f"SELECT * FROM {COMPONENTS.name} WHERE workspace_id = %s AND page_slug = %s "
            f"AND archived_at IS {'NOT ' if archived else ''}NULL "
            "ORDER BY COALESCE(group_name, ''), position, name, id",
            [str(workspace_id), page_slug])
        return [component_summary(row) for row in rows]

    def status_changes(self, component_ids: list[UUID]) -> dict[UUID, list[StatusChange]]:
        found: dict[UUID, list[StatusChange]] = {i: [] for i in component_ids}
        if not component_ids:
            return found
        rows = self.db.query(
            f"SELECT * FROM {STATUS_CHANGES.name} WHERE component_id IN "
            f"({_marks(component_ids)}) ORDER BY effective_at, version",
            [str(i) for i in component_ids])
        for row in rows:
            found[UUID(row["component_id"])].append(StatusChange(
                _at(row["effective_at"]), int(row["version"]), row["status"]))
        return found

    def affected_by(self, incident_ids: list[UUID]) -> dict[UUID, list[AffectedComponent]]:
        found: dict[UUID, list[AffectedComponent]] = {i: [] for i in incident_ids}
        if not incident_ids:
            return found
        rows = self.db.query(
            f"SELECT a.incident_id, a.component_id, a.status, c.name "
            f"FROM {INCIDENT_COMPONENTS.name} a JOIN {COMPONENTS.name} c "
            f"ON c.id = a.component_id WHERE a.incident_id IN ({_marks(incident_ids)}) "
            "ORDER BY c.name, c.id", [str(i) for i in incident_ids])
        for row in rows:
            found[UUID(row["incident_id"])].append(AffectedComponent(
                UUID(row["component_id"]), row["name"], row["status"]))
        return found

    def linked_to_monitors(self) -> list[tuple[UUID, UUID]]:
        rows = self.db.query(f"SELECT id, monitor_id FROM {COMPONENTS.name} "
                             "WHERE monitor_id IS NOT NULL AND archived_at IS NULL ORDER BY id")
        return [(UUID(r["id"]), UUID(r["monitor_id"])) for r in rows]

    def linked_to(self, monitor_id: UUID) -> list[UUID]:
        rows = self.db.query(f"SELECT id FROM {COMPONENTS.name} WHERE monitor_id = %s "
                             "AND archived_at IS NULL ORDER BY id", [str(monitor_id)])
        return [UUID(r["id"]) for r in rows]


class SqlMaintenanceQueries(MaintenanceQueries):
    def __init__(self, db: Database):
        self.db = db

    def _summary(self, row: Row) -> MaintenanceSummary:
        return MaintenanceSummary(
            id=UUID(row["id"]), workspace_id=UUID(row["workspace_id"]),
            page_slug=row["page_slug"], title=row["title"], state=row["state"],
            scheduled_for=_at(row["scheduled_for"]), scheduled_until=_at(row["scheduled_until"]),
            started_at=from_micros(row["started_at"]), ended_at=from_micros(row["ended_at"]),
            auto_start=bool(row["auto_start"]), auto_complete=bool(row["auto_complete"]),
            components=list(self.db.load_json(row["components"])),
            monitors=list(self.db.load_json(row["monitors"])),
            created_at=_at(row["created_at"]), updated_at=_at(row["updated_at"]),
            version=int(row["version"]))

    def on_page(self, workspace_id: UUID, page_slug: str,
                states: tuple[str, ...] | None = None) -> list[MaintenanceSummary]:
        where, params = "workspace_id = %s AND page_slug = %s", [str(workspace_id), page_slug]
        if states:
            where += f" AND state IN ({_marks(list(states))})"
            params += list(states)
        rows = self.db.query(f"SELECT * FROM {MAINTENANCES.name} WHERE {where} "
                             "ORDER BY scheduled_for DESC, id DESC LIMIT 500", params)
        return [self._summary(row) for row in rows]

    def due(self, now: datetime, limit: int = 1000) -> list[UUID]:
        at = micros(now)
        rows = self.db.query(
            f"SELECT id FROM {MAINTENANCES.name} WHERE "
            "(state = %s AND auto_start = %s AND scheduled_for <= %s) OR "
            "(state IN (%s, %s) AND auto_complete = %s AND scheduled_until <= %s) "
            "ORDER BY scheduled_for LIMIT %s",
            ["scheduled", True, at, "in_progress", "verifying", True, at, limit])
        return [UUID(r["id"]) for r in rows]

    def windows(self, target_ids: list[str]) -> list[Window]:
        if not target_ids:
            return []
        rows = self.db.query(
            f"SELECT DISTINCT m.id, m.started_at, m.ended_at FROM {MAINTENANCES.name} m "
            f"JOIN {TARGETS.name} t ON t.maintenance_id = m.id "
            f"WHERE t.target_id IN ({_marks(target_ids)}) AND m.started_at IS NOT NULL",
            target_ids)
        return [Window(_at(r["started_at"]), from_micros(r["ended_at"])) for r in rows]

    def updates_for(self, maintenance_ids: list[UUID]) -> dict[UUID, list[dict[str, Any]]]:
        return timelines(self.db, UPDATES.name, "maintenance_id", maintenance_ids)
