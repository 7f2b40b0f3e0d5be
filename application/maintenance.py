"""Scheduled maintenance: commands of the status-pages context, kept in their own module."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from application.base import retry_on_conflict
from application.components import ComponentCommands, describe_event
from domain.actor import Actor
from domain.errors import MaintenanceNotFoundError
from domain.ids import new_id
from domain.maintenance import Maintenance


class MaintenanceCommands(ComponentCommands):
    """Schedule, change, annotate and advance maintenance windows."""

    def schedule_maintenance(self, workspace_id: UUID, page_slug: str, *, title: str,
                             message: str | None, scheduled_for: datetime,
                             scheduled_until: datetime, components: list[str],
                             monitors: list[str], auto_start: bool, auto_complete: bool,
                             actor: Actor) -> Maintenance:
        """Schedule a window; one whose times have already come (a backdated one) takes effect
        at once, effective at those times."""
        page = self.get_page(workspace_id, page_slug)
        self.check_page_components(page.id, components)
        maintenance = Maintenance.schedule(
            maintenance_id=new_id(), workspace_id=workspace_id, page_id=page.id,
            page_slug=page.slug, title=title, scheduled_for=scheduled_for,
            scheduled_until=scheduled_until, components=components, monitors=monitors,
            auto_start=auto_start, auto_complete=auto_complete, message=message, actor=actor,
            at=self.clock())
        maintenance.advance(at=self.clock())
        self.save(maintenance)
        return maintenance

    def get_maintenance(self, workspace_id: UUID, maintenance_id: UUID,
                        as_of: datetime | None = None) -> Maintenance:
        version = self.version_at(maintenance_id, as_of, MaintenanceNotFoundError,
                                  "maintenance") if as_of is not None else None
        maintenance: Maintenance = self.load(maintenance_id, MaintenanceNotFoundError,
                                             "maintenance", version, workspace_id=workspace_id,
                                             kind=Maintenance)
        return maintenance

    def change_maintenance(self, workspace_id: UUID, maintenance_id: UUID, *, actor: Actor,
                           expected_version: int | None = None, **fields: Any) -> Maintenance:
        if "components" in fields:
            page = self.get_maintenance(workspace_id, maintenance_id).page_id
            self.check_page_components(page, fields["components"])

        def command(maintenance: Maintenance) -> None:
            maintenance.change(actor=actor, at=self.clock(), **fields)
            maintenance.advance(at=self.clock())

        return self._change_maintenance(workspace_id, maintenance_id, expected_version, command)

    def post_maintenance_update(self, workspace_id: UUID, maintenance_id: UUID, *, message: str,
                                actor: Actor, expected_version: int | None = None,
                                ) -> tuple[Maintenance, dict[str, Any]]:
        posted: dict[str, Any] = {}

        def command(maintenance: Maintenance) -> None:
            posted.update(maintenance.post_update(message, actor=actor, at=self.clock()))

        maintenance = self._change_maintenance(workspace_id, maintenance_id, expected_version,
                                               command)
        return maintenance, posted

    @retry_on_conflict
    def advance_maintenance(self, maintenance_id: UUID) -> Maintenance:
        """Make a window's automatic transitions whose time has come (the scheduler's job)."""
        maintenance: Maintenance = self.load(maintenance_id, MaintenanceNotFoundError,
                                             "maintenance", kind=Maintenance)
        if maintenance.advance(at=self.clock()):
            self.save(maintenance)
        return maintenance

    def maintenance_history(self, workspace_id: UUID,
                            maintenance_id: UUID) -> list[dict[str, Any]]:
        self.get_maintenance(workspace_id, maintenance_id)
        return [describe_event(event) for event in self.events.get(maintenance_id)]

    def check_page_components(self, page_id: UUID, components: list[str]) -> None:
        for component_id in components:
            self.page_component(page_id, str(component_id))

    def _change_maintenance(self, workspace_id: UUID, maintenance_id: UUID,
                            expected_version: int | None, command: Any) -> Maintenance:
        return self.guarded_update(
            lambda: self.get_maintenance(workspace_id, maintenance_id), expected_version,
            command, "maintenance")
