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

from domain.component import Component
from domain.incident import Incident, changes_of
from domain.maintenance import Maintenance
from domain.subscriber import Subscriber
from projections.model import (
    BIGINT,
    JSON,
    TEXT,
    Fanout,
    Lookup,
    Op,
    Parent,
    Patch,
    Projection,
    Table,
    Upsert,
    micros,
)
from projections.webhook_subjects import (
    SUBJECT_COMPONENTS,
    SUBJECT_EVENTS,
    subject_changes,
    subject_event_type,
    touched_components,
)

SUBSCRIBERS = Table(
    name="rm_subscribers",
    columns={"id": TEXT, "workspace_id": TEXT, "page_id": TEXT, "page_slug": TEXT, "url": TEXT,
             "created_at": BIGINT, "removed_at": BIGINT},
    primary_key=("id",),
    indexes=(("page_id",), ("workspace_id", "page_slug")),
)
# The page of each subject (incident, component or maintenance; named before there were others).
INCIDENT_PAGES = Table(
    name="rm_webhook_incident_pages",
    columns={"incident_id": TEXT, "page_id": TEXT},
    primary_key=("incident_id",),
    parents=(Parent("incident_id", "rm_incidents"), Parent("page_id", "rm_pages")),
)
SUBSCRIBER_COMPONENTS = Table(
    name="rm_subscriber_components",
    columns={"subscriber_id": TEXT, "component_id": TEXT, "workspace_id": TEXT,
             "page_slug": TEXT, "removed_at": BIGINT},
    primary_key=("subscriber_id", "component_id"),
    indexes=(("component_id",),),
)
# One row per delivery; `incident_id` names the subject, whichever kind it is.
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

    def waiting(self, now: int) -> int:
        """How many deliveries are yet to go out (never tried, or pending a retry)."""

    def recent_of(self, subscriber_ids: list[str], limit: int = 20) -> dict[str, list[dict[str, Any]]]:
        """Each subscriber's latest deliveries, newest first, each with its attempts oldest
        first."""


class WebhookDeliveriesProjection(Projection):
    name = "webhook_deliveries"
    source = "StatusPages"
    tables = (SUBSCRIBERS, INCIDENT_PAGES, DELIVERIES, SUBSCRIBER_COMPONENTS, SUBJECT_COMPONENTS)
    topics = (get_topic(Subscriber.Subscribed), get_topic(Subscriber.Removed),
              get_topic(Component.Created), get_topic(Incident.ComponentsAffected),
              *(get_topic(cls) for cls in (*EVENT_TYPES, *SUBJECT_EVENTS)))

    def ops(self, event: Any) -> Iterable[Op]:
        if isinstance(event, Subscriber.Subscribed):
            yield from self._subscribed(event)
        elif isinstance(event, Subscriber.Removed):
            for table, key in ((SUBSCRIBERS, "id"), (SUBSCRIBER_COMPONENTS, "subscriber_id")):
                yield Patch(table.name, {key: str(event.originator_id)},
                            {"removed_at": micros(event.timestamp)})
        else:
            subject_id = str(event.originator_id)
            if isinstance(event, Incident.Opened | Component.Created | Maintenance.Scheduled):
                yield Upsert(INCIDENT_PAGES.name, {"incident_id": subject_id,
                                                   "page_id": str(event.page_id)})
            yield from touched_components(event)
            if type(event) in EVENT_TYPES:
                yield from self._deliveries(event, EVENT_TYPES[type(event)], changes_of(event))
            elif isinstance(event, SUBJECT_EVENTS):
                yield from self._deliveries(event, subject_event_type(event),
                                            subject_changes(event))

    def _subscribed(self, event: Subscriber.Subscribed) -> Iterable[Op]:
        """Everyone is listed; a subscriber of the whole page matches its page id, one that
        chose components matches those (its page id is left empty, so only they match)."""
        subscriber = {"workspace_id": str(event.workspace_id), "page_slug": event.page_slug}
        yield Upsert(SUBSCRIBERS.name, {
            "id": str(event.originator_id), **subscriber,
            "page_id": str(event.page_id) if event.components is None else None,
            "url": event.url, "created_at": micros(event.timestamp), "removed_at": None})
        for component_id in event.components or []:
            yield Upsert(SUBSCRIBER_COMPONENTS.name, {
                "subscriber_id": str(event.originator_id), "component_id": component_id,
                **subscriber, "removed_at": None})

    def _deliveries(self, event: Any, event_type: str,
                    changes: dict[str, Any]) -> Iterable[Op]:
        """One delivery per subscriber of the subject's page, and per subscriber of a component
        the subject touches (once each: a delivery's key is made once)."""
        subject_id = str(event.originator_id)
        copy = {"subscriber_id": "id", "workspace_id": "workspace_id", "page_slug": "page_slug"}
        row = {"incident_id": subject_id, "version": event.originator_version,
               "event_type": event_type, "changes": changes,
               "occurred_at": micros(event.timestamp)}
        yield Fanout(DELIVERIES.name, source=SUBSCRIBERS.name, copy=copy, row=row, match={
            "page_id": Lookup(INCIDENT_PAGES.name, "page_id", {"incident_id": subject_id}),
            "removed_at": None})
        yield Fanout(DELIVERIES.name, source=SUBSCRIBER_COMPONENTS.name,
                     copy={**copy, "subscriber_id": "subscriber_id"}, row=row, match={
                         "component_id": Lookup(SUBJECT_COMPONENTS.name, "component_id",
                                                {"subject_id": subject_id}, many=True),
                         "removed_at": None})
