"""The status-pages context: pages, the incidents shown on them, and their webhook subscribers."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import RecordConflictError

from application.base import retry_on_conflict
from application.maintenance import MaintenanceCommands
from domain.actor import Actor
from domain.errors import (
    AlreadyExistsError,
    IncidentNotFoundError,
    NotFoundError,
    SubscriberNotFoundError,
)
from domain.ids import new_id
from domain.incident import Incident, changes_of
from domain.page import Page
from domain.subscriber import Subscriber, check_secret
from domain.time import iso


def new_secret() -> str:
    """A webhook signing secret for subscribers that did not bring their own."""
    return "whsec_" + secrets.token_urlsafe(32)


class StatusPagesApplication(MaintenanceCommands):
    """Pages, incidents and subscribers here; components and maintenance in their own modules."""

    name = "StatusPages"

    def create_page(self, workspace_id: UUID, *, slug: str, name: str, actor: Actor) -> Page:
        page = Page.create(workspace_id=workspace_id, slug=slug, name=name, actor=actor)
        try:
            self.save(page)
        except RecordConflictError:
            raise AlreadyExistsError(f"a page with slug {slug!r} already exists") from None
        return page

    def open_incident(self, workspace_id: UUID, page_slug: str, *, title: str, impact: str,
                      state: str, message: str | None, actor: Actor,
                      incident_id: UUID | None = None,
                      components: dict[str, str] | None = None,
                      started_at: datetime | None = None) -> Incident:
        """Open an incident (and set the components it names, in the same save); given an id,
        opening it again returns the one already opened."""
        page = self.get_page(workspace_id, page_slug)
        incident = Incident.open(
            incident_id=incident_id or new_id(), workspace_id=workspace_id, page_id=page.id,
            page_slug=page.slug, title=title, impact=impact, state=state, message=message,
            actor=actor, at=self.clock(), components=components, started_at=started_at,
        )
        affected = self.components_for_incident(incident, components, resolving=False,
                                                actor=actor, effective_at=started_at)
        try:
            self.save(incident, *affected)
        except RecordConflictError:
            if incident_id is None:
                raise
            return self.get_incident(workspace_id, incident_id)
        return incident

    def get_incident(self, workspace_id: UUID, incident_id: UUID,
                     as_of: datetime | None = None) -> Incident:
        """The incident now, or as it was at `as_of`; another workspace's incident is not found."""
        version = self.version_at(incident_id, as_of, IncidentNotFoundError, "incident") \
            if as_of is not None else None
        incident: Incident = self.load(incident_id, IncidentNotFoundError, "incident", version,
                                       workspace_id=workspace_id, kind=Incident)
        return incident

    def change_incident(self, workspace_id: UUID, incident_id: UUID, *, actor: Actor,
                        expected_version: int | None = None,
                        components: dict[str, str] | None = None, **fields: Any) -> Incident:
        def command(incident: Incident) -> list[Any]:
            was_resolved = incident.resolved
            if components:  # first, so the change's notifications reach these components' too
                incident.affect(components, actor=actor, at=self.clock())
            incident.change(actor=actor, at=self.clock(), **fields)
            return self.components_for_incident(
                incident, components, resolving=incident.resolved and not was_resolved,
                actor=actor)

        return self._update(workspace_id, incident_id, expected_version, command)

    def post_update(self, workspace_id: UUID, incident_id: UUID, *, message: str, actor: Actor,
                    expected_version: int | None = None) -> tuple[Incident, dict[str, Any]]:
        posted: dict[str, Any] = {}

        def command(incident: Incident) -> None:
            posted.update(incident.post_update(message, actor=actor, at=self.clock()))

        return self._update(workspace_id, incident_id, expected_version, command), posted

    def close_incident(self, workspace_id: UUID, incident_id: UUID, *, message: str,
                       actor: Actor) -> Incident:
        """Post a closing update and resolve, in one save; an incident already resolved is left be."""

        def command(incident: Incident) -> None:
            if not incident.resolved:
                incident.post_update(message, actor=actor, at=self.clock())
                incident.change(actor=actor, at=self.clock(), resolved=True)

        return self._update(workspace_id, incident_id, None, command)

    def subject_at_version(self, subject_id: UUID, version: int) -> Any:
        """An incident, component or maintenance window exactly as one of its events left it
        (for webhook bodies)."""
        return self.load(subject_id, NotFoundError, "webhook subject", version)

    def subscribe(self, workspace_id: UUID, page_slug: str, *, url: str, secret: str | None,
                  actor: Actor, components: list[str] | None = None) -> Subscriber:
        """Subscribe a webhook URL to a page's news (only what touches `components`, if given);
        without a secret, one is made."""
        page = self.get_page(workspace_id, page_slug)
        self.check_page_components(page.id, components or [])
        subscriber = Subscriber.subscribe(
            subscriber_id=new_id(), workspace_id=workspace_id, page_id=page.id,
            page_slug=page.slug, url=url,
            secret=new_secret() if secret is None else check_secret(secret),
            actor=actor, at=self.clock(), components=components)
        self.save(subscriber)
        return subscriber

    def get_subscriber(self, subscriber_id: UUID) -> Subscriber:
        subscriber: Subscriber = self.load(subscriber_id, SubscriberNotFoundError, "subscriber",
                                           kind=Subscriber)
        return subscriber

    @retry_on_conflict
    def unsubscribe(self, workspace_id: UUID, page_slug: str, subscriber_id: UUID, *,
                    actor: Actor) -> None:
        """Remove a page's subscriber; a removed or foreign one is not found."""
        page = self.get_page(workspace_id, page_slug)
        subscriber = self.get_subscriber(subscriber_id)
        if subscriber.page_id != page.id or subscriber.removed:
            raise SubscriberNotFoundError("subscriber not found")
        subscriber.remove(actor=actor, at=self.clock())
        self.save(subscriber)

    def incident_history(self, workspace_id: UUID, incident_id: UUID) -> list[dict[str, Any]]:
        """Every change to an incident: version, type, when, by whom, and fields before and after."""
        self.get_incident(workspace_id, incident_id)
        return [describe_change(event) for event in self.events.get(incident_id)]

    def _update(self, workspace_id: UUID, incident_id: UUID, expected_version: int | None,
                command: Any) -> Incident:
        return self.guarded_update(lambda: self.get_incident(workspace_id, incident_id),
                                   expected_version, command, "incident")


def describe_change(event: Any) -> dict[str, Any]:
    """One history entry for one incident event (its changes as webhooks show them too)."""
    return {
        "version": event.originator_version,
        "type": type(event).__name__,
        "occurred_at": event.timestamp,
        "actor": dict(event.actor),
        "changes": [{"field": f, **change} for f, change in changes_of(event).items()],
    }


class IncidentRow(Protocol):
    """An incident as a read model lists it (the aggregate's own dates are named differently)."""

    @property
    def id(self) -> Any: ...
    @property
    def page_slug(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def impact(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def resolved(self) -> bool: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def version(self) -> int: ...


def incident_json(incident: Incident | IncidentRow,
                  updates: list[dict[str, Any]] | None) -> dict[str, Any]:
    """An incident on the wire, the same in REST and in webhooks; `updates` None leaves them out."""
    if isinstance(incident, Incident):
        created, updated = incident.created_on, incident.modified_on
    else:
        created, updated = incident.created_at, incident.updated_at
    body: dict[str, Any] = {
        "id": str(incident.id), "page_slug": incident.page_slug, "title": incident.title,
        "impact": incident.impact, "state": incident.state, "resolved": incident.resolved,
        "resolved_at": iso(incident.resolved_at),
        "created_at": iso(created), "updated_at": iso(updated),
        "version": incident.version,
    }
    if updates is not None:
        body["updates"] = [update_json(u) for u in updates]
    return body


def update_json(update: dict[str, Any]) -> dict[str, Any]:
    """One timeline update on the wire."""
    return {"id": update["id"], "message": update["message"],
            "created_at": iso(update["created_at"])}
