"""Scheduled maintenance: announced ahead, started and completed at its times, with a timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.changes import FieldsChanged, post_timeline_update
from domain.errors import ConflictError, ValidationError, check_version
from domain.incident import check_message, check_title

STATES = ("scheduled", "in_progress", "verifying", "completed", "cancelled")
NEXT_STATES = {
    "scheduled": ("in_progress", "cancelled"),
    "in_progress": ("verifying", "completed", "cancelled"),
    "verifying": ("in_progress", "completed", "cancelled"),
    "completed": (),
    "cancelled": (),
}
UNDERWAY = ("in_progress", "verifying")  # the window in which components are under maintenance
SCHEDULER: Actor = {"key_id": None, "name": "scheduler"}


def check_window(scheduled_for: datetime, scheduled_until: datetime) -> None:
    if scheduled_until <= scheduled_for:
        raise ValidationError("scheduled_until must be after scheduled_for",
                              details=[{"field": "scheduled_until", "message": "after scheduled_for"}])


def check_ids(field: str, values: object) -> list[str]:
    """A list of distinct ids, as strings (the aggregates they name are checked by the caller)."""
    if not isinstance(values, list) or len(values) > 100:
        raise ValidationError(f"{field} must be a list of at most 100 ids",
                              details=[{"field": field, "message": "list of ids"}])
    return sorted({str(v) for v in values})


class Maintenance(Aggregate):
    """One maintenance window of a page, for some of its components and monitors."""

    def __init__(self, workspace_id: UUID, page_id: UUID, page_slug: str, title: str,
                 scheduled_for: datetime, scheduled_until: datetime, components: list[str],
                 monitors: list[str], auto_start: bool, auto_complete: bool, actor: Actor):
        self.workspace_id = workspace_id
        self.page_id = page_id
        self.page_slug = page_slug
        self.title = title
        self.scheduled_for = scheduled_for
        self.scheduled_until = scheduled_until
        self.components = components
        self.monitors = monitors
        self.auto_start = auto_start
        self.auto_complete = auto_complete
        self.state = "scheduled"
        self.started_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.updates: list[dict[str, Any]] = []

    class Scheduled(Aggregate.Created):
        workspace_id: UUID
        page_id: UUID
        page_slug: str
        title: str
        scheduled_for: datetime
        scheduled_until: datetime
        components: list[str]
        monitors: list[str]
        auto_start: bool
        auto_complete: bool
        actor: Actor

    @classmethod
    def schedule(cls, *, maintenance_id: UUID, workspace_id: UUID, page_id: UUID, page_slug: str,
                 title: str, scheduled_for: datetime, scheduled_until: datetime,
                 components: list[str], monitors: list[str], auto_start: bool,
                 auto_complete: bool, message: str | None, actor: Actor,
                 at: datetime) -> Maintenance:
        check_title(title)
        check_window(scheduled_for, scheduled_until)
        if message is not None:
            check_message(message)
        maintenance = cls._create(
            cls.Scheduled, id=maintenance_id, timestamp=at, workspace_id=workspace_id,
            page_id=page_id, page_slug=page_slug, title=title, scheduled_for=scheduled_for,
            scheduled_until=scheduled_until, components=check_ids("components", components),
            monitors=check_ids("monitors", monitors), auto_start=auto_start,
            auto_complete=auto_complete, actor=actor)
        if message is not None:
            maintenance.post_update(message, actor=actor, at=at)
        return maintenance

    class Changed(FieldsChanged):
        """Title, schedule, scope or automation changed."""

    class StateChanged(Aggregate.Event):
        """`after` holds from `effective_at`: the scheduled time for automatic transitions, even
        when the scheduler ran late, so uptime does not depend on when it ran."""

        before: str
        after: str
        effective_at: datetime
        actor: Actor

        def apply(self, aggregate: Maintenance) -> None:
            aggregate.state = self.after
            if self.after in UNDERWAY and aggregate.started_at is None:
                aggregate.started_at = self.effective_at
            if self.after in ("completed", "cancelled"):
                aggregate.ended_at = self.effective_at

    def change(self, *, actor: Actor, at: datetime, **fields: Any) -> None:
        """Apply a PATCH: only what differs is recorded, then a state change if one was asked."""
        wanted: dict[str, Any] = {}
        if "title" in fields:
            wanted["title"] = check_title(fields["title"])
        for field in ("scheduled_for", "scheduled_until", "auto_start", "auto_complete"):
            if field in fields:
                wanted[field] = fields[field]
        for field in ("components", "monitors"):
            if field in fields:
                wanted[field] = check_ids(field, fields[field])
        check_window(wanted.get("scheduled_for", self.scheduled_for),
                     wanted.get("scheduled_until", self.scheduled_until))
        changes = {f: [getattr(self, f), v] for f, v in wanted.items() if getattr(self, f) != v}
        if changes:
            self.trigger_event(self.Changed, changes=changes, actor=actor, timestamp=at)
        if "state" in fields and fields["state"] != self.state:
            self.move_to(fields["state"], actor=actor, at=at)

    def move_to(self, state: str, *, actor: Actor, at: datetime,
                effective_at: datetime | None = None) -> None:
        if state not in STATES:
            raise ValidationError(f"state must be one of: {', '.join(STATES)}",
                                  details=[{"field": "state", "message": f"one of {list(STATES)}"}])
        if state not in NEXT_STATES[self.state]:
            raise ConflictError(f"a maintenance that is {self.state} cannot become {state}",
                                details=[{"field": "state", "message": f"from {self.state}: "
                                          f"{list(NEXT_STATES[self.state]) or 'none'}"}])
        self.trigger_event(self.StateChanged, before=self.state, after=state,
                           effective_at=effective_at or at, actor=actor, timestamp=at)

    def advance(self, *, at: datetime) -> bool:
        """Make the automatic transitions whose time has come, each effective at its scheduled
        time; True if any was made."""
        moved = False
        if self.state == "scheduled" and self.auto_start and at >= self.scheduled_for:
            self.move_to("in_progress", actor=SCHEDULER, at=at, effective_at=self.scheduled_for)
            moved = True
        if self.state in UNDERWAY and self.auto_complete and at >= self.scheduled_until:
            end = max(self.scheduled_until, self.started_at or self.scheduled_until)
            self.move_to("completed", actor=SCHEDULER, at=at, effective_at=end)
            moved = True
        return moved

    class UpdatePosted(Aggregate.Event):
        update_id: str
        message: str
        actor: Actor

        def apply(self, aggregate: Maintenance) -> None:
            aggregate.updates.append(
                {"id": self.update_id, "message": self.message, "created_at": self.timestamp})

    def post_update(self, message: str, *, actor: Actor, at: datetime) -> dict[str, Any]:
        """Add a timeline entry; its id is `upd_` and 12 hex digits, derived from its position."""
        check_message(message)
        return post_timeline_update(self, message, actor=actor, at=at)

    def check_version(self, expected: int | None) -> None:
        check_version("maintenance", self.version, expected)
