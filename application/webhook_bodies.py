"""What a webhook carries about its subject, as the delivered event left it: an incident, a
component or a maintenance window."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.statuspages import StatusPagesApplication, incident_json, update_json
from application.webhooks import DeliveryKey, Recipient
from domain.component import Component
from domain.errors import NotFoundError
from domain.maintenance import Maintenance
from domain.time import iso


def component_body(component: Component) -> dict[str, Any]:
    return {"id": str(component.id), "page_slug": component.page_slug, "name": component.name,
            "group": component.group, "status": component.status,
            "archived": component.archived, "updated_at": iso(component.modified_on),
            "version": component.version}


def maintenance_body(maintenance: Maintenance) -> dict[str, Any]:
    return {"id": str(maintenance.id), "page_slug": maintenance.page_slug,
            "title": maintenance.title, "state": maintenance.state,
            "scheduled_for": iso(maintenance.scheduled_for),
            "scheduled_until": iso(maintenance.scheduled_until),
            "started_at": iso(maintenance.started_at), "ended_at": iso(maintenance.ended_at),
            "components": maintenance.components, "monitors": maintenance.monitors,
            "updated_at": iso(maintenance.modified_on), "version": maintenance.version,
            "updates": [update_json(u) for u in maintenance.updates]}


def subject_body(statuspages: StatusPagesApplication, kind: str, subject_id: UUID,
                 version: int) -> dict[str, Any]:
    """The subject of a delivery (`kind`: incident, component or maintenance) at its version."""
    subject = statuspages.subject_at_version(subject_id, version)
    if kind == "incident":
        return incident_json(subject, subject.updates)
    if kind == "component":
        return component_body(subject)
    return maintenance_body(subject)


class PageSubscribers:
    """Status-page webhooks go to a page's subscribers and carry the incident, component or
    maintenance window as the delivered event left it."""

    def __init__(self, statuspages: StatusPagesApplication):
        self.statuspages = statuspages

    def recipient(self, key: DeliveryKey) -> Recipient | None:
        try:
            subscriber = self.statuspages.get_subscriber(UUID(key.subscriber_id))
        except NotFoundError:
            return None
        return None if subscriber.removed else Recipient(subscriber.url, subscriber.secret)

    def subject(self, key: DeliveryKey, delivery: dict[str, Any]) -> dict[str, Any]:
        kind = delivery["event_type"].split(".", 1)[0]  # incident, component or maintenance
        return {"page": {"slug": delivery["page_slug"]}, "changes": delivery["changes"],
                kind: subject_body(self.statuspages, kind, UUID(key.incident_id), key.version)}
