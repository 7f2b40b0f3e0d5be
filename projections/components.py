"""The components read model: one row per component, one per status change (for uptime over any
range), and the components each incident affects."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.component import Component
from domain.incident import Incident
from projections.model import BIGINT, TEXT, Op, Parent, Patch, Projection, Table, Upsert, micros

COMPONENTS = Table(
    name="rm_components",
    columns={"id": TEXT, "workspace_id": TEXT, "page_id": TEXT, "page_slug": TEXT, "name": TEXT,
             "group_name": TEXT, "description": TEXT, "position": BIGINT, "monitor_id": TEXT,
             "status": TEXT, "status_cause": TEXT, "created_at": BIGINT, "updated_at": BIGINT,
             "archived_at": BIGINT, "version": BIGINT},
    primary_key=("id",),
    indexes=(("workspace_id", "page_slug", "position"), ("monitor_id",)),
)
STATUS_CHANGES = Table(
    name="rm_component_status_changes",
    columns={"component_id": TEXT, "version": BIGINT, "effective_at": BIGINT, "status": TEXT},
    primary_key=("component_id", "version"),
    parents=(Parent("component_id", "rm_components"),),
)
INCIDENT_COMPONENTS = Table(
    name="rm_incident_components",
    columns={"incident_id": TEXT, "component_id": TEXT, "status": TEXT},
    primary_key=("incident_id", "component_id"),
    parents=(Parent("component_id", "rm_components"), Parent("incident_id", "rm_incidents")),
)
FIELD_COLUMNS = {"group": "group_name"}


class ComponentsProjection(Projection):
    name = "components"
    source = "StatusPages"
    tables = (COMPONENTS, STATUS_CHANGES, INCIDENT_COMPONENTS)
    topics = tuple(get_topic(cls) for cls in (
        Component.Created, Component.Changed, Component.StatusChanged, Component.Archived,
        Incident.Opened, Incident.ComponentsAffected))

    def ops(self, event: Any) -> Iterable[Op]:
        if isinstance(event, Incident.Opened | Incident.ComponentsAffected):
            for component_id, status in event.components.items():
                yield Upsert(INCIDENT_COMPONENTS.name, {"incident_id": str(event.originator_id),
                                                        "component_id": component_id,
                                                        "status": status})
            return
        key = {"id": str(event.originator_id)}
        stamp = {"updated_at": micros(event.timestamp), "version": event.originator_version}
        change = {"component_id": key["id"], "version": event.originator_version}
        if isinstance(event, Component.Created):
            yield Upsert(COMPONENTS.name, {
                **key, "workspace_id": str(event.workspace_id), "page_id": str(event.page_id),
                "page_slug": event.page_slug, "name": event.name, "group_name": event.group,
                "description": event.description, "position": event.position,
                "monitor_id": str(event.monitor_id) if event.monitor_id else None,
                "status": "operational", "status_cause": "manual",
                "created_at": micros(event.timestamp), "archived_at": None, **stamp})
            yield Upsert(STATUS_CHANGES.name, {**change, "effective_at": micros(event.timestamp),
                                               "status": "operational"})
        elif isinstance(event, Component.Changed):
            values = {FIELD_COLUMNS.get(f, f): after for f, (_, after) in event.changes.items()}
            yield Patch(COMPONENTS.name, key, {**values, **stamp})
        elif isinstance(event, Component.StatusChanged):
            yield Patch(COMPONENTS.name, key, {"status": event.after,
                                               "status_cause": event.cause, **stamp})
            yield Upsert(STATUS_CHANGES.name, {**change, "effective_at": micros(event.effective_at),
                                               "status": event.after})
        elif isinstance(event, Component.Archived):
            yield Patch(COMPONENTS.name, key, {"archived_at": micros(event.timestamp), **stamp})


@dataclass(frozen=True)
class ComponentSummary:
    id: UUID
    workspace_id: UUID
    page_slug: str
    name: str
    group: str | None
    description: str | None
    position: int
    monitor_id: UUID | None
    status: str
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    version: int


@dataclass(frozen=True)
class StatusChange:
    """From `effective_at` on, the component's status is `status` (later versions win ties)."""

    effective_at: datetime
    version: int
    status: str


@dataclass(frozen=True)
class AffectedComponent:
    id: UUID
    name: str
    status: str  # the status the incident gave it


class ComponentQueries(ABC):
    """What the components read model can answer."""

    @abstractmethod
    def on_page(self, workspace_id: UUID, page_slug: str,
                archived: bool = False) -> list[ComponentSummary]:
        """A page's components by group, position and name (archived ones only if asked)."""

    @abstractmethod
    def status_changes(self, component_ids: list[UUID]) -> dict[UUID, list[StatusChange]]:
        """Every status change of each component, in effective order."""

    @abstractmethod
    def affected_by(self, incident_ids: list[UUID]) -> dict[UUID, list[AffectedComponent]]:
        """The components each incident names."""

    @abstractmethod
    def linked_to_monitors(self) -> list[tuple[UUID, UUID]]:
        """(component id, monitor id) of every live component linked to a monitor."""

    @abstractmethod
    def linked_to(self, monitor_id: UUID) -> list[UUID]:
        """The live components linked to one monitor."""
