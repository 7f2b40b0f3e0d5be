"""Components of status pages: commands of the status-pages context, kept in their own module.

They live in the same Application as incidents so that an incident and the components it names are
decided and saved together, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import RecordConflictError

from application.base import BeaconApplication, retry_on_conflict
from domain.actor import Actor
from domain.component import MONITOR, Component, check_status, incident_cause
from domain.errors import (
    ComponentNotFoundError,
    NotFoundError,
    PageNotFoundError,
    ValidationError,
    VersionMismatchError,
)
from domain.ids import new_id
from domain.incident import Incident
from domain.page import Page, page_id

A = TypeVar("A", bound=Any)


class ComponentCommands(BeaconApplication):
    """Add, change, archive and read components, and set them from incidents and monitors."""

    def get_page(self, workspace_id: UUID, slug: str) -> Page:
        page: Page = self.load(page_id(workspace_id, slug), PageNotFoundError, "page", kind=Page)
        return page

    @retry_on_conflict
    def weigh_uptime(self, workspace_id: UUID, slug: str, weights: dict[str, float], *,
                     actor: Actor) -> Page:
        page = self.get_page(workspace_id, slug)
        page.weigh_uptime(weights, actor=actor, at=self.clock())
        self.save(page)
        return page

    def add_component(self, workspace_id: UUID, page_slug: str, *, name: str,
                      group: str | None, description: str | None, position: int,
                      monitor_id: UUID | None, actor: Actor) -> Component:
        page = self.get_page(workspace_id, page_slug)
        component = Component.create(
            component_id=new_id(), workspace_id=workspace_id, page_id=page.id,
            page_slug=page.slug, name=name, group=group, description=description,
            position=position, monitor_id=monitor_id, actor=actor, at=self.clock())
        self.save(component)
        return component

    def get_component(self, workspace_id: UUID, component_id: UUID,
                      as_of: datetime | None = None) -> Component:
        """The component now, or as it was at `as_of`; another workspace's is not found."""
        version = self.version_at(component_id, as_of, ComponentNotFoundError, "component") \
            if as_of is not None else None
        component: Component = self.load(component_id, ComponentNotFoundError, "component",
                                         version, workspace_id=workspace_id, kind=Component)
        return component

    @retry_on_conflict
    def change_component(self, workspace_id: UUID, component_id: UUID, *, actor: Actor,
                         expected_version: int | None = None, **fields: Any) -> Component:
        component = self.get_component(workspace_id, component_id)
        component.check_version(expected_version)
        if component.archived:
            raise ComponentNotFoundError("component is archived")
        component.change(actor=actor, at=self.clock(), **fields)
        self.save(component)
        return component

    @retry_on_conflict
    def archive_component(self, workspace_id: UUID, component_id: UUID, *,
                          actor: Actor) -> Component:
        component = self.get_component(workspace_id, component_id)
        component.archive(actor=actor, at=self.clock())
        self.save(component)
        return component

    def component_history(self, workspace_id: UUID, component_id: UUID) -> list[dict[str, Any]]:
        self.get_component(workspace_id, component_id)
        return [describe_event(event) for event in self.events.get(component_id)]

    @retry_on_conflict
    def follow_monitor(self, component_id: UUID, *, down: bool, since: datetime,
                       actor: Actor) -> bool:
        """Set a linked component from its monitor: major outage while it is down (from when it
        went down), operational again when beats resume unless someone else set it since."""
        component: Component = self.load(component_id, ComponentNotFoundError, "component",
                                         kind=Component)
        if component.archived:
            return False
        if down:
            changed = component.set_status("major_outage", cause=MONITOR, actor=actor,
                                           at=self.clock(), effective_at=since)
        elif component.status_cause == MONITOR:
            changed = component.set_status("operational", cause=MONITOR, actor=actor,
                                           at=self.clock(), effective_at=since)
        else:
            changed = False
        if changed:
            self.save(component)
        return changed

    def components_for_incident(self, incident: Incident, requested: dict[str, str] | None,
                                *, resolving: bool, actor: Actor,
                                effective_at: datetime | None = None) -> list[Component]:
        """Set the components an incident names (and, when it resolves, set the ones it affected
        back to operational unless the same request says otherwise); returns those to save. The
        incident records what it names itself (when opened, or with `affect` before a change)."""
        targets = {c: check_status(s, f"components.{c}") for c, s in (requested or {}).items()}
        if resolving:
            for component_id in incident.components:
                targets.setdefault(component_id, "operational")
        at = self.clock()
        changed = []
        for component_id, status in targets.items():
            component = self.page_component(incident.page_id, component_id,
                                            f"components.{component_id}")
            if component.set_status(status, cause=incident_cause(incident.id), actor=actor, at=at,
                                    effective_at=effective_at):
                changed.append(component)
        return changed

    def page_component(self, page_id: UUID, component_id: str,
                       field: str = "components") -> Component:
        """A live component of the page, or a 422 naming the bad id."""
        bad = ValidationError(f"component {component_id} is not a component of this page",
                              details=[{"field": field, "message": f"unknown {component_id}"}])
        try:
            component: Component = self.load(UUID(component_id), ComponentNotFoundError,
                                             "component", kind=Component)
        except (ValueError, NotFoundError):
            raise bad from None
        if component.page_id != page_id or component.archived:
            raise bad
        return component

    def guarded_update(self, load: Callable[[], A], expected_version: int | None,
                       command: Callable[[A], list[Any] | None], what: str) -> A:
        """Load, check the caller's version, decide, save (with what the command returns, in the
        same transaction); a lost race with If-Match is a 412."""

        @retry_on_conflict
        def attempt() -> A:
            aggregate = load()
            aggregate.check_version(expected_version)
            others = command(aggregate) or []
            try:
                self.save(aggregate, *others)
            except RecordConflictError:
                if expected_version is not None:
                    raise VersionMismatchError(
                        f"{what} was changed by another request",
                        details=[{"field": "If-Match", "message": "stale version"}]) from None
                raise
            return aggregate

        return attempt()

    def version_at(self, aggregate_id: UUID, as_of: datetime, error: type[NotFoundError],
                   what: str) -> int:
        """The aggregate's version at a moment; not found if it did not exist yet."""
        version = None
        for event in self.events.get(aggregate_id):
            if cast(Aggregate.Event, event).timestamp > as_of:
                break
            version = event.originator_version
        if version is None:
            raise error(f"{what} did not exist at that time")
        return version


META = {"originator_id", "originator_version", "timestamp", "originator_topic", "actor"}


def describe_event(event: Any) -> dict[str, Any]:
    """One audit entry for a component or maintenance event: what changed, when, by whom."""
    if isinstance(event, Aggregate.Created):
        fields = {f: [None, v] for f, v in vars(event).items() if f not in META}
    elif hasattr(event, "changes"):
        fields = event.changes
    elif hasattr(event, "before"):
        name = "status" if isinstance(event, Component.StatusChanged) else "state"
        fields = {name: [event.before, event.after]}
    elif hasattr(event, "update_id"):
        fields = {"update": [None, {"id": event.update_id, "message": event.message}]}
    else:
        fields = {"archived": [False, True]}
    entry = {
        "version": event.originator_version, "type": type(event).__name__,
        "occurred_at": event.timestamp, "actor": dict(event.actor),
        "changes": [{"field": f, "before": b, "after": a} for f, (b, a) in fields.items()],
    }
    if hasattr(event, "effective_at"):
        entry["effective_at"] = event.effective_at
    if hasattr(event, "cause"):
        entry["cause"] = event.cause
    return entry
