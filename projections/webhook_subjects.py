"""What webhooks say about components and maintenance, and which components each subject touches.

A subject is what a delivery is about: an incident, a component or a maintenance window. A
subscriber that chose components receives a subject's events when the subject touches one of them:
an incident that names it, the component itself, maintenance that covers it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from domain.component import Component
from domain.incident import Incident
from domain.maintenance import Maintenance
from domain.time import iso
from projections.model import TEXT, Delete, Op, Parent, Table, Upsert

SUBJECT_COMPONENTS = Table(
    name="rm_webhook_subject_components",
    columns={"subject_id": TEXT, "component_id": TEXT},
    primary_key=("subject_id", "component_id"),
    # an incident's or a maintenance's components
    parents=(Parent("component_id", "rm_components"), Parent("subject_id", "rm_incidents"),
             Parent("subject_id", "rm_maintenances")),
)
SUBJECT_EVENTS: tuple[type[Any], ...] = (
    Component.Changed, Component.StatusChanged, Component.Archived, Maintenance.Scheduled,
    Maintenance.Changed, Maintenance.StateChanged, Maintenance.UpdatePosted)
MAINTENANCE_STATES = {"in_progress": "started", "verifying": "verifying",
                      "completed": "completed", "cancelled": "cancelled"}
META = {"originator_id", "originator_version", "timestamp", "originator_topic", "actor",
        "workspace_id", "page_id", "class_version"}


def json_value(value: Any) -> Any:
    return iso(value) if isinstance(value, datetime) else value


def subject_event_type(event: Any) -> str:
    """The webhook event type of a component or maintenance event."""
    if isinstance(event, Component.Event):
        return "component.updated"
    if isinstance(event, Maintenance.StateChanged):
        return f"maintenance.{MAINTENANCE_STATES[event.after]}"
    names: dict[type[Any], str] = {Maintenance.Scheduled: "maintenance.scheduled",
                                   Maintenance.Changed: "maintenance.changed",
                                   Maintenance.UpdatePosted: "maintenance.update_posted"}
    return names[type(event)]


def subject_changes(event: Any) -> dict[str, dict[str, Any]]:
    """What a component or maintenance event changed, field by field, before and after."""
    if isinstance(event, Maintenance.Scheduled):
        return {f: {"before": None, "after": json_value(v)} for f, v in vars(event).items()
                if f not in META}
    if isinstance(event, Maintenance.UpdatePosted):
        return {"update": {"before": None, "after": {
            "id": event.update_id, "message": event.message, "created_at": iso(event.timestamp)}}}
    if isinstance(event, Component.StatusChanged):
        return {"status": {"before": event.before, "after": event.after,
                           "effective_at": iso(event.effective_at), "cause": event.cause}}
    if isinstance(event, Maintenance.StateChanged):
        return {"state": {"before": event.before, "after": event.after,
                          "effective_at": iso(event.effective_at)}}
    if isinstance(event, Component.Archived):
        return {"archived": {"before": False, "after": True}}
    return {f: {"before": json_value(b), "after": json_value(a)}
            for f, (b, a) in event.changes.items()}


def _touches(subject_id: str, components: Iterable[str], *, add: bool = True) -> Iterable[Op]:
    for component_id in components:
        row = {"subject_id": subject_id, "component_id": component_id}
        yield Upsert(SUBJECT_COMPONENTS.name, row) if add else Delete(SUBJECT_COMPONENTS.name, row)


def touched_components(event: Any) -> Iterable[Op]:
    """Record which components a subject touches (before the event's deliveries are made)."""
    subject_id = str(event.originator_id)
    if isinstance(event, Incident.Opened | Incident.ComponentsAffected):
        yield from _touches(subject_id, event.components)
    elif isinstance(event, Component.Created):
        yield from _touches(subject_id, [subject_id])
    elif isinstance(event, Maintenance.Scheduled):
        yield from _touches(subject_id, event.components)
    elif isinstance(event, Maintenance.Changed) and "components" in event.changes:
        before, after = event.changes["components"]
        yield from _touches(subject_id, set(before) - set(after), add=False)
        yield from _touches(subject_id, after)
