"""The webhook outbox: every incident event becomes one delivery per subscriber of its page.

The event log is the outbox (DESIGN.md decision 7). This projection runs in the incidents' log order
with the subscriptions, so the subscribers of a page when an event is projected are its recipients,
and the deliveries are written exactly once with the tracking position. The table is a pure function
of history, so a rebuild makes the same rows; what the dispatcher did with them (attempts, outcome)
lives in its own tables, keyed by the same delivery, and survives rebuilds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from eventsourcing.utils import get_topic

from domain.incident import Incident, changes_of
from domain.subscriber import Subscriber
from projections.model import (
    BIGINT,
    JSON,
    TEXT,
    Fanout,
    Lookup,
    Op,
    Patch,
    Projection,
    Table,
    Upsert,
    micros,
)

SUBSCRIBERS = Table(
    name="rm_subscribers",
    columns={"id": TEXT, "workspace_id": TEXT, "page_id": TEXT, "page_slug": TEXT, "url": TEXT,
             "created_at": BIGINT, "removed_at": BIGINT},
    primary_key=("id",),
    indexes=(("page_id",), ("workspace_id", "page_slug")),
)
INCIDENT_PAGES = Table(
    name="rm_webhook_incident_pages",
    columns={"incident_id": TEXT, "page_id": TEXT},
    primary_key=("incident_id",),
)
DELIVERIES = Table(
    name="rm_webhook_deliveries",
    columns={"subscriber_id": TEXT, "incident_id": TEXT, "version": BIGINT, "workspace_id": TEXT,
             "page_slug": TEXT, "event_type": TEXT, "changes": JSON, "occurred_at": BIGINT},
    primary_key=("subscriber_id", "incident_id", "version"),
    indexes=(("occurred_at",), ("subscriber_id", "occurred_at")),
)
EVENT_TYPES: dict[type[Any], str] = {
    Incident.Opened: "incident.created",
    Incident.Changed: "incident.changed",
    Incident.Resolved: "incident.resolved",
    Incident.Reopened: "incident.reopened",
    Incident.UpdatePosted: "incident.update_posted",
}


class WebhookLog(Protocol):
    """What the subscribers API shows: a page's subscribers and what became of their deliveries."""

    def subscribers(self, workspace_id: str, page_slug: str) -> list[dict[str, Any]]:
        """A page's current subscribers, oldest first."""

    def recent(self, subscriber_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """A subscriber's latest deliveries, newest first, each with its attempts oldest first."""


class WebhookDeliveriesProjection(Projection):
    name = "webhook_deliveries"
    source = "StatusPages"
    tables = (SUBSCRIBERS, INCIDENT_PAGES, DELIVERIES)
    topics = (get_topic(Subscriber.Subscribed), get_topic(Subscriber.Removed),
              *(get_topic(cls) for cls in EVENT_TYPES))

    def ops(self, event: Any) -> Iterable[Op]:
        if isinstance(event, Subscriber.Subscribed):
            yield Upsert(SUBSCRIBERS.name, {
                "id": str(event.originator_id), "workspace_id": str(event.workspace_id),
                "page_id": str(event.page_id), "page_slug": event.page_slug, "url": event.url,
                "created_at": micros(event.timestamp), "removed_at": None})
        elif isinstance(event, Subscriber.Removed):
            yield Patch(SUBSCRIBERS.name, {"id": str(event.originator_id)},
                        {"removed_at": micros(event.timestamp)})
        elif type(event) in EVENT_TYPES:
            incident_id = str(event.originator_id)
            if isinstance(event, Incident.Opened):
                yield Upsert(INCIDENT_PAGES.name, {"incident_id": incident_id,
                                                   "page_id": str(event.page_id)})
            yield Fanout(
                DELIVERIES.name, source=SUBSCRIBERS.name,
                match={"page_id": Lookup(INCIDENT_PAGES.name, "page_id",
                                         {"incident_id": incident_id}),
                       "removed_at": None},
                copy={"subscriber_id": "id", "workspace_id": "workspace_id",
                      "page_slug": "page_slug"},
                row={"incident_id": incident_id, "version": event.originator_version,
                     "event_type": EVENT_TYPES[type(event)], "changes": changes_of(event),
                     "occurred_at": micros(event.timestamp)})
