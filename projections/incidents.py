"""The incidents read model: one row per incident, one per timeline update, newest first."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.incident import Incident
from projections.model import (
    BIGINT,
    BOOL,
    TEXT,
    Op,
    Parent,
    Patch,
    Projection,
    Table,
    Upsert,
    micros,
)

INCIDENTS = Table(
    name="rm_incidents",
    columns={
        "id": TEXT, "workspace_id": TEXT, "page_slug": TEXT, "title": TEXT, "impact": TEXT,
        "state": TEXT, "resolved": BOOL, "resolved_at": BIGINT, "created_at": BIGINT,
        "updated_at": BIGINT, "version": BIGINT,
    },
    primary_key=("id",),
    indexes=(("workspace_id", "page_slug", "created_at", "id"),),
)
UPDATES = Table(
    name="rm_incident_updates",
    columns={"id": TEXT, "incident_id": TEXT, "message": TEXT, "created_at": BIGINT},
    primary_key=("incident_id", "id"),
    parents=(Parent("incident_id", "rm_incidents"),),
)


class IncidentsProjection(Projection):
    name = "incidents"
    source = "StatusPages"
    tables = (INCIDENTS, UPDATES)
    topics = tuple(get_topic(cls) for cls in (Incident.Opened, Incident.Changed,
                                              Incident.Resolved, Incident.Reopened,
                                              Incident.UpdatePosted))

    def ops(self, event: Any) -> Iterable[Op]:
        key = {"id": str(event.originator_id)}
        stamp = {"updated_at": micros(event.timestamp), "version": event.originator_version}
        if isinstance(event, Incident.Opened):
            resolved = event.state == "resolved"
            yield Upsert(INCIDENTS.name, {
                **key, "workspace_id": str(event.workspace_id), "page_slug": event.page_slug,
                "title": event.title, "impact": event.impact, "state": event.state,
                "resolved": resolved, "resolved_at": stamp["updated_at"] if resolved else None,
                "created_at": micros(event.timestamp), **stamp,
            })
        elif isinstance(event, Incident.Changed):
            values = {f: after for f, (_, after) in event.changes.items()}
            if "resolved_at" in values:
                values["resolved_at"] = micros(values["resolved_at"]) if values["resolved_at"] \
                    else None
            yield Patch(INCIDENTS.name, key, {**values, **stamp})
        elif isinstance(event, Incident.UpdatePosted):
            yield Upsert(UPDATES.name, {"id": event.update_id, "incident_id": key["id"],
                                        "message": event.message,
                                        "created_at": micros(event.timestamp)})
            yield Patch(INCIDENTS.name, key, stamp)


@dataclass(frozen=True)
class IncidentSummary:
    id: UUID
    workspace_id: UUID
    page_slug: str
    title: str
    impact: str
    state: str
    resolved: bool
    resolved_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True)
class IncidentPage:
    items: list[IncidentSummary]
    has_more: bool
    next_cursor: tuple[int, str] | None
    total: int


class IncidentQueries(ABC):
    """What the incidents read model can answer."""

    @abstractmethod
    def list_incidents(self, workspace_id: UUID, page_slug: str, *, state: str | None = None,
                       after: tuple[int, str] | None = None, limit: int = 25) -> IncidentPage:
        """Incidents of a page, newest first, after a (created_at µs, id) cursor."""

    @abstractmethod
    def updates_for(self, incident_ids: list[UUID]) -> dict[UUID, list[dict[str, Any]]]:
        """Timeline updates of many incidents at once, oldest first (for DataLoaders)."""
