"""Incidents on a status page: opened, changed, resolved, reopened, and given timeline updates."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.changes import post_timeline_update
from domain.errors import ValidationError, VersionMismatchError
from domain.time import iso

IMPACTS = ("none", "minor", "major", "critical")
STATES = ("investigating", "identified", "monitoring", "resolved")
REOPENED_STATE = "investigating"
MAX_TITLE = 255
MAX_MESSAGE = 10_000


def check_title(title: object) -> str:
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
        raise ValidationError("title must be 1-255 characters",
                              details=[{"field": "title", "message": "1-255 characters"}])
    return title


def check_choice(field: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValidationError(f"{field} must be one of: {', '.join(choices)}",
                              details=[{"field": field, "message": f"one of {list(choices)}"}])
    return str(value)


def check_message(message: object) -> str:
    if not isinstance(message, str) or not message.strip() or len(message) > MAX_MESSAGE:
        raise ValidationError(f"message must be 1-{MAX_MESSAGE} characters",
                              details=[{"field": "message", "message": "required"}])
    return message


class Incident(Aggregate):
    """One incident. Its updates form the public timeline; its events form the audit trail."""

    def __init__(self, workspace_id: UUID, page_id: UUID, page_slug: str, title: str,
                 impact: str, state: str, actor: Actor, components: dict[str, str],
                 started_at: datetime | None):
        self.workspace_id = workspace_id
        self.page_id = page_id
        self.page_slug = page_slug
        self.title = title
        self.impact = impact
        self.state = state
        self.resolved = state == "resolved"
        self.resolved_at: datetime | None = self.created_on if self.resolved else None
        self.updates: list[dict[str, Any]] = []
        self.components = dict(components)  # component id → the status this incident gave it
        self.started_at = started_at or self.created_on  # earlier when reported after the fact

    class Opened(Aggregate.Created):
        class_version = 2

        workspace_id: UUID
        page_id: UUID
        page_slug: str
        title: str
        impact: str
        state: str
        actor: Actor
        components: dict[str, str]
        started_at: datetime | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Incidents opened before components existed named none and began when opened."""
            state["components"] = {}
            state["started_at"] = None

    @classmethod
    def open(cls, *, incident_id: UUID, workspace_id: UUID, page_id: UUID, page_slug: str,
             title: str, impact: str, state: str, message: str | None, actor: Actor,
             at: datetime, components: dict[str, str] | None = None,
             started_at: datetime | None = None) -> Incident:
        """Open an incident; `started_at` backdates when it began (and when the components it
        names took their statuses), never into the future."""
        check_title(title)
        check_choice("impact", impact, IMPACTS)
        check_choice("state", state, STATES)
        if message is not None:
            check_message(message)
        if started_at is not None and started_at > at:
            raise ValidationError("started_at may not be in the future",
                                  details=[{"field": "started_at", "message": "not after now"}])
        incident = cls._create(cls.Opened, id=incident_id, timestamp=at,
                               workspace_id=workspace_id, page_id=page_id, page_slug=page_slug,
                               title=title, impact=impact, state=state, actor=actor,
                               components=dict(components or {}), started_at=started_at)
        if message is not None:
            incident.post_update(message, actor=actor, at=at)
        return incident

    class Changed(Aggregate.Event):
        """Title, impact or state changed; `changes` maps each field to [before, after]."""

        changes: dict[str, list[Any]]
        actor: Actor

        def apply(self, aggregate: Incident) -> None:
            for field, (_, after) in self.changes.items():
                setattr(aggregate, field, after)

    class Resolved(Changed):
        pass

    class Reopened(Changed):
        pass

    def change(self, *, actor: Actor, at: datetime, title: str | None = None,
               impact: str | None = None, state: str | None = None,
               resolved: bool | None = None) -> None:
        """Apply a PATCH. Only what differs is recorded; a PATCH that changes nothing records nothing."""
        wanted: dict[str, Any] = {}
        if title is not None:
            wanted["title"] = check_title(title)
        if impact is not None:
            wanted["impact"] = check_choice("impact", impact, IMPACTS)
        if state is not None:
            wanted["state"] = check_choice("state", state, STATES)
        wanted.update(self._resolution(state, resolved, at))
        changes = {f: [getattr(self, f), v] for f, v in wanted.items() if getattr(self, f) != v}
        if not changes:
            return
        if "resolved" not in changes:
            event_class: type[Incident.Changed] = self.Changed
        elif changes["resolved"][1]:
            event_class = self.Resolved
        else:
            event_class = self.Reopened
        self.trigger_event(event_class, changes=changes, actor=actor, timestamp=at)

    def _resolution(self, state: str | None, resolved: bool | None,
                    at: datetime) -> dict[str, Any]:
        """The state, resolved flag and resolved_at implied by a requested state and flag."""
        if resolved is True and state not in (None, "resolved"):
            raise ValidationError(
                f"state {state!r} contradicts resolved: true",
                details=[{"field": "state", "message": "must be 'resolved' when resolved is true"}],
            )
        if resolved is False and state == "resolved":
            raise ValidationError(
                "state 'resolved' contradicts resolved: false",
                details=[{"field": "resolved", "message": "must be true when state is resolved"}],
            )
        target = state or ("resolved" if resolved else None)
        if resolved is False and target is None and self.resolved:
            target = REOPENED_STATE
        if target is None:
            return {}
        if target == "resolved":
            if self.resolved:
                return {"state": "resolved"}
            return {"state": "resolved", "resolved": True, "resolved_at": at}
        return {"state": target, "resolved": False, "resolved_at": None}

    class UpdatePosted(Aggregate.Event):
        update_id: str
        message: str
        actor: Actor

        def apply(self, aggregate: Incident) -> None:
            aggregate.updates.append(
                {"id": self.update_id, "message": self.message, "created_at": self.timestamp}
            )

    def post_update(self, message: str, *, actor: Actor, at: datetime) -> dict[str, Any]:
        """Add a timeline entry; its id is `upd_` and 12 hex digits, derived from its position."""
        check_message(message)
        return post_timeline_update(self, message, actor=actor, at=at)

    class ComponentsAffected(Aggregate.Event):
        """The incident set these components' statuses (id → status)."""

        components: dict[str, str]
        actor: Actor

        def apply(self, aggregate: Incident) -> None:
            aggregate.components = {**aggregate.components, **self.components}

    def affect(self, components: dict[str, str], *, actor: Actor, at: datetime) -> None:
        """Name the components this incident affects, with the status it gives each."""
        changed = {c: s for c, s in components.items() if self.components.get(c) != s}
        if changed:
            self.trigger_event(self.ComponentsAffected, components=changed, actor=actor,
                               timestamp=at)

    def check_version(self, expected: int | None) -> None:
        if expected is not None and expected != self.version:
            raise VersionMismatchError(
                f"incident is at version {self.version}, not {expected}",
                details=[{"field": "If-Match", "message": f"current version is {self.version}"}],
            )


def _wire(value: Any) -> Any:
    return iso(value) if isinstance(value, datetime) else value


def changes_of(event: Incident.Event) -> dict[str, dict[str, Any]]:
    """What one incident event changed, field by field, before and after, as the wire shows it
    (an incident's history and its webhooks both say it this way)."""
    if isinstance(event, Incident.Opened):
        return {f: {"before": None, "after": getattr(event, f)}
                for f in ("title", "impact", "state")}
    if isinstance(event, Incident.ComponentsAffected):
        return {"components": {"before": None, "after": event.components}}
    if isinstance(event, Incident.UpdatePosted):
        return {"update": {"before": None, "after": {
            "id": event.update_id, "message": event.message, "created_at": iso(event.timestamp)}}}
    changes = event.changes if isinstance(event, Incident.Changed) else {}
    return {f: {"before": _wire(b), "after": _wire(a)} for f, (b, a) in changes.items()}
