"""Components of a status page: the parts of a service a visitor sees, each with a status and its history."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.changes import FieldsChanged
from domain.errors import ValidationError, check_version

STATUSES = ("operational", "degraded_performance", "partial_outage", "major_outage",
            "under_maintenance")
MAX_NAME, MAX_GROUP, MAX_DESCRIPTION = 255, 255, 2_000
MANUAL, MONITOR = "manual", "monitor"


def incident_cause(incident_id: UUID) -> str:
    """What an incident that set a component's status is recorded as."""
    return f"incident:{incident_id}"


def check_status(value: object, field: str = "status") -> str:
    if value not in STATUSES:
        raise ValidationError(f"{field} must be one of: {', '.join(STATUSES)}",
                              details=[{"field": field, "message": f"one of {list(STATUSES)}"}])
    return str(value)


def _check_text(field: str, value: object, limit: int, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise ValidationError(f"{field} must be {'1' if required else '0'}-{limit} characters",
                              details=[{"field": field, "message": f"at most {limit} characters"}])
    return value


def _check_position(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise ValidationError("position must be an integer from 0 to 1000000",
                              details=[{"field": "position", "message": "0-1000000"}])
    return value


class Component(Aggregate):
    """One component. Its status is set by hand, by incidents that name it, or by its monitor."""

    def __init__(self, workspace_id: UUID, page_id: UUID, page_slug: str, name: str,
                 group: str | None, description: str | None, position: int,
                 monitor_id: UUID | None, actor: Actor):
        self.workspace_id = workspace_id
        self.page_id = page_id
        self.page_slug = page_slug
        self.name = name
        self.group = group
        self.description = description
        self.position = position
        self.monitor_id = monitor_id
        self.status = "operational"
        self.status_cause = MANUAL
        self.archived = False

    class Created(Aggregate.Created):
        workspace_id: UUID
        page_id: UUID
        page_slug: str
        name: str
        group: str | None
        description: str | None
        position: int
        monitor_id: UUID | None
        actor: Actor

    @classmethod
    def create(cls, *, component_id: UUID, workspace_id: UUID, page_id: UUID, page_slug: str,
               name: str, group: str | None, description: str | None, position: int,
               monitor_id: UUID | None, actor: Actor, at: datetime) -> Component:
        return cls._create(
            cls.Created, id=component_id, timestamp=at, workspace_id=workspace_id,
            page_id=page_id, page_slug=page_slug,
            name=_check_text("name", name, MAX_NAME, required=True),
            group=_check_text("group", group, MAX_GROUP, required=False),
            description=_check_text("description", description, MAX_DESCRIPTION, required=False),
            position=_check_position(position), monitor_id=monitor_id, actor=actor)

    class Changed(FieldsChanged):
        """Name, group, description or position changed."""

    class StatusChanged(Aggregate.Event):
        """The status `after` holds from `effective_at` on (a monitor's outage began before it was
        noticed); `cause` says who set it: manual, monitor, or incident:<id>."""

        before: str
        after: str
        effective_at: datetime
        cause: str
        actor: Actor

        def apply(self, aggregate: Component) -> None:
            aggregate.status = self.after
            aggregate.status_cause = self.cause

    class Archived(Aggregate.Event):
        actor: Actor

        def apply(self, aggregate: Component) -> None:
            aggregate.archived = True

    def change(self, *, actor: Actor, at: datetime, **fields: Any) -> None:
        """Apply a PATCH: only what differs is recorded; a status sent by hand is a manual status."""
        wanted: dict[str, Any] = {}
        if "name" in fields:
            wanted["name"] = _check_text("name", fields["name"], MAX_NAME, required=True)
        if "group" in fields:
            wanted["group"] = _check_text("group", fields["group"], MAX_GROUP, required=False)
        if "description" in fields:
            wanted["description"] = _check_text("description", fields["description"],
                                                MAX_DESCRIPTION, required=False)
        if "position" in fields:
            wanted["position"] = _check_position(fields["position"])
        status = check_status(fields["status"]) if "status" in fields else None
        changes = {f: [getattr(self, f), v] for f, v in wanted.items() if getattr(self, f) != v}
        if changes:
            self.trigger_event(self.Changed, changes=changes, actor=actor, timestamp=at)
        if status is not None:
            self.set_status(status, cause=MANUAL, actor=actor, at=at)

    def set_status(self, status: str, *, cause: str, actor: Actor, at: datetime,
                   effective_at: datetime | None = None) -> bool:
        """Record a new status (nothing when it is the current one); True if it changed."""
        check_status(status)
        if status == self.status:
            return False
        self.trigger_event(self.StatusChanged, before=self.status, after=status,
                           effective_at=effective_at or at, cause=cause, actor=actor,
                           timestamp=at)
        return True

    def archive(self, *, actor: Actor, at: datetime) -> None:
        """Hide the component from now on; its history is kept."""
        if not self.archived:
            self.trigger_event(self.Archived, actor=actor, timestamp=at)

    def check_version(self, expected: int | None) -> None:
        check_version("component", self.version, expected)
