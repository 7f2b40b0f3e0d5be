"""The maintenance read model: one row per window, what it covers, and its timeline updates."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.maintenance import Maintenance
from projections.model import (
    BIGINT,
    BOOL,
    JSON,
    TEXT,
    Delete,
    Op,
    Parent,
    Patch,
    Projection,
    Table,
    Upsert,
    micros,
)

MAINTENANCES = Table(
    name="rm_maintenances",
    columns={"id": TEXT, "workspace_id": TEXT, "page_slug": TEXT, "title": TEXT, "state": TEXT,
             "scheduled_for": BIGINT, "scheduled_until": BIGINT, "started_at": BIGINT,
             "ended_at": BIGINT, "auto_start": BOOL, "auto_complete": BOOL,
             "components": JSON, "monitors": JSON, "created_at": BIGINT, "updated_at": BIGINT,
             "version": BIGINT},
    primary_key=("id",),
    indexes=(("workspace_id", "page_slug", "scheduled_for"), ("state", "scheduled_for")),
)
TARGETS = Table(
    name="rm_maintenance_targets",
    columns={"maintenance_id": TEXT, "target_id": TEXT, "kind": TEXT},
    primary_key=("maintenance_id", "target_id"),
    parents=(Parent("maintenance_id", "rm_maintenances"),),
    indexes=(("target_id",),),
)
UPDATES = Table(
    name="rm_maintenance_updates",
    columns={"id": TEXT, "maintenance_id": TEXT, "message": TEXT, "created_at": BIGINT},
    primary_key=("maintenance_id", "id"),
    parents=(Parent("maintenance_id", "rm_maintenances"),),
)
TIMES = ("scheduled_for", "scheduled_until")
KINDS = {"components": "component", "monitors": "monitor"}


def _targets(maintenance_id: str, field: str, ids: list[str], *, add: bool) -> Iterable[Op]:
    for target_id in ids:
        key = {"maintenance_id": maintenance_id, "target_id": target_id}
        yield Upsert(TARGETS.name, {**key, "kind": KINDS[field]}) if add else \
            Delete(TARGETS.name, key)


class MaintenancesProjection(Projection):
    name = "maintenances"
    source = "StatusPages"
    tables = (MAINTENANCES, TARGETS, UPDATES)
    topics = tuple(get_topic(cls) for cls in (
        Maintenance.Scheduled, Maintenance.Changed, Maintenance.StateChanged,
        Maintenance.UpdatePosted))

    def ops(self, event: Any) -> Iterable[Op]:
        key = {"id": str(event.originator_id)}
        stamp = {"updated_at": micros(event.timestamp), "version": event.originator_version}
        if isinstance(event, Maintenance.Scheduled):
            yield Upsert(MAINTENANCES.name, {
                **key, "workspace_id": str(event.workspace_id), "page_slug": event.page_slug,
                "title": event.title, "state": "scheduled",
                "scheduled_for": micros(event.scheduled_for),
                "scheduled_until": micros(event.scheduled_until), "started_at": None,
                "ended_at": None, "auto_start": event.auto_start,
                "auto_complete": event.auto_complete, "components": event.components,
                "monitors": event.monitors, "created_at": micros(event.timestamp), **stamp})
            for field in KINDS:
                yield from _targets(key["id"], field, getattr(event, field), add=True)
        elif isinstance(event, Maintenance.Changed):
            values = {f: micros(after) if f in TIMES else after
                      for f, (_, after) in event.changes.items()}
            yield Patch(MAINTENANCES.name, key, {**values, **stamp})
            for field in KINDS:
                if field in event.changes:
                    before, after = event.changes[field]
                    yield from _targets(key["id"], field, before, add=False)
                    yield from _targets(key["id"], field, after, add=True)
        elif isinstance(event, Maintenance.StateChanged):
            state: dict[str, Any] = {"state": event.after}
            if event.after in ("in_progress", "verifying") and event.before == "scheduled":
                state["started_at"] = micros(event.effective_at)
            if event.after in ("completed", "cancelled"):
                state["ended_at"] = micros(event.effective_at)
            yield Patch(MAINTENANCES.name, key, {**state, **stamp})
        elif isinstance(event, Maintenance.UpdatePosted):
            yield Upsert(UPDATES.name, {"id": event.update_id, "maintenance_id": key["id"],
                                        "message": event.message,
                                        "created_at": micros(event.timestamp)})
            yield Patch(MAINTENANCES.name, key, stamp)


@dataclass(frozen=True)
class MaintenanceSummary:
    id: UUID
    workspace_id: UUID
    page_slug: str
    title: str
    state: str
    scheduled_for: datetime
    scheduled_until: datetime
    started_at: datetime | None
    ended_at: datetime | None
    auto_start: bool
    auto_complete: bool
    components: list[str]
    monitors: list[str]
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True)
class Window:
    """Time under maintenance: from `started_at` until `ended_at` (None: still going on)."""

    started_at: datetime
    ended_at: datetime | None


class MaintenanceQueries(ABC):
    """What the maintenance read model can answer."""

    @abstractmethod
    def on_page(self, workspace_id: UUID, page_slug: str,
                states: tuple[str, ...] | None = None) -> list[MaintenanceSummary]:
        """A page's windows by scheduled start, newest first, in any of `states` if given."""

    @abstractmethod
    def due(self, now: datetime, limit: int = 1000) -> list[UUID]:
        """Windows whose automatic start or completion time has come."""

    @abstractmethod
    def windows(self, target_ids: list[str]) -> list[Window]:
        """The time under maintenance of every window covering any of these components or
        monitors."""

    @abstractmethod
    def updates_for(self, maintenance_ids: list[UUID]) -> dict[UUID, list[dict[str, Any]]]:
        """Each window's timeline, oldest first."""
