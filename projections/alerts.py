"""The alerts read model: one row per rule (what lists and evaluation read), and the webhook outbox
of their firings: one delivery per channel told, written exactly once with the tracking position
(DESIGN.md decision 7), through the same delivery machinery as subscriber webhooks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import get_topic

from domain.alert import Alert
from projections.model import BIGINT, JSON, TEXT, Fanout, Op, Patch, Projection, Table, Upsert, micros
from projections.webhooks import DELIVERIES

ALERTS = Table(
    name="rm_alerts",
    columns={"id": TEXT, "workspace_id": TEXT, "name": TEXT, "kind": TEXT, "condition": JSON,
             "state": TEXT, "created_at": BIGINT, "deleted_at": BIGINT},
    primary_key=("id",),
    indexes=(("workspace_id", "created_at"), ("kind", "deleted_at")),
)
# The outbox of alert webhooks: `subscriber_id` is the channel, `incident_id` the alert.
ALERT_DELIVERIES = Table(name="rm_alert_deliveries", columns=DELIVERIES.columns,
                         primary_key=DELIVERIES.primary_key, indexes=DELIVERIES.indexes)
EVENT_TYPES = {Alert.Fired: "alert.fired", Alert.Notified: "alert.fired",
               Alert.Resolved: "alert.resolved", Alert.ChannelsTested: "alert.test"}


@dataclass(frozen=True)
class AlertPage:
    items: list[dict[str, Any]]
    has_more: bool
    next_cursor: tuple[int, str] | None
    total: int  # the workspace's rules across all pages


class AlertQueries(ABC):
    """The rules as lists and evaluation read them."""

    @abstractmethod
    def list_alerts(self, workspace_id: str, after: tuple[int, str] | None,
                    limit: int, state: str | None = None) -> AlertPage:
        """A workspace's rules (in `state`, ok or firing, if given), oldest first, after a
        (created_at, id) cursor."""

    @abstractmethod
    def rule_ids(self, workspace_id: str) -> list[str]:
        """The ids of a workspace's live rules."""

    @abstractmethod
    def rules(self, kind: str, workspace_id: str | None = None) -> list[dict[str, Any]]:
        """Every live rule of a kind (in one workspace, if given): id, workspace_id, condition."""


class AlertsProjection(Projection):
    name = "alerts"
    source = "Alerts"
    tables = (ALERTS, ALERT_DELIVERIES)
    topics = tuple(get_topic(cls) for cls in (
        Alert.Created, Alert.Changed, Alert.Deleted, Alert.Fired, Alert.Notified,
        Alert.Resolved, Alert.ChannelsTested))

    def ops(self, event: Any) -> Iterable[Op]:
        key = {"id": str(event.originator_id)}
        if isinstance(event, Alert.Created):
            yield Upsert(ALERTS.name, {
                **key, "workspace_id": str(event.workspace_id), "name": event.name,
                "kind": event.condition["type"], "condition": event.condition, "state": "ok",
                "created_at": micros(event.timestamp), "deleted_at": None})
        elif isinstance(event, Alert.Changed):
            values = {k: v for k, v in event.fields.items() if k in ("name", "condition")}
            if "condition" in values:
                values.update(kind=values["condition"]["type"], state="ok")
            if values:
                yield Patch(ALERTS.name, key, values)
        elif isinstance(event, Alert.Deleted):
            yield Patch(ALERTS.name, key, {"deleted_at": micros(event.timestamp)})
        elif isinstance(event, Alert.ChannelsTested):
            yield from self._deliveries(event)
        else:
            yield Patch(ALERTS.name, key, {
                "state": "ok" if isinstance(event, Alert.Resolved) else "firing"})
            yield from self._deliveries(event)

    def _deliveries(self, event: Any) -> Iterable[Op]:
        row = {"version": event.originator_version, "page_slug": "",
               "event_type": EVENT_TYPES[type(event)], "occurred_at": micros(event.timestamp),
               "changes": {"value": getattr(event, "value", None)}}
        for channel_id in event.channels:
            yield Fanout(ALERT_DELIVERIES.name, source=ALERTS.name,
                         match={"id": str(event.originator_id)},
                         copy={"workspace_id": "workspace_id", "incident_id": "id"},
                         row={**row, "subscriber_id": channel_id})
