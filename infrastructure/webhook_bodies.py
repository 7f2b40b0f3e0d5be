"""What a webhook about a component or a maintenance window carries: the subject as its event
left it (incidents: see `incident_body` in the dispatcher)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.statuspages import StatusPagesApplication
from domain.component import Component
from domain.maintenance import Maintenance
from projections.webhook_subjects import iso_z


def component_body(component: Component) -> dict[str, Any]:
    return {"id": str(component.id), "page_slug": component.page_slug, "name": component.name,
            "group": component.group, "status": component.status,
            "archived": component.archived, "updated_at": iso_z(component.modified_on),
            "version": component.version}


def maintenance_body(maintenance: Maintenance) -> dict[str, Any]:
    return {"id": str(maintenance.id), "page_slug": maintenance.page_slug,
            "title": maintenance.title, "state": maintenance.state,
            "scheduled_for": iso_z(maintenance.scheduled_for),
            "scheduled_until": iso_z(maintenance.scheduled_until),
            "started_at": iso_z(maintenance.started_at), "ended_at": iso_z(maintenance.ended_at),
            "components": maintenance.components, "monitors": maintenance.monitors,
            "updated_at": iso_z(maintenance.modified_on), "version": maintenance.version,
            "updates": [{"id": u["id"], "message": u["message"],
                         "created_at": iso_z(u["created_at"])} for u in maintenance.updates]}


def subject_body(statuspages: StatusPagesApplication, kind: str, subject_id: UUID,
                 version: int) -> dict[str, Any]:
    """A component or maintenance window exactly as the delivered event left it."""
    subject: Any = statuspages.repository.get(subject_id, version=version)
    if kind == "component":
        return component_body(subject)
    return maintenance_body(subject)
