"""Alert rules: the `alert` and `alerts` queries and the types they return."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.scalars import JSON

from application.webhooks import delivery_status
from domain.alert import Alert as AlertAggregate
from domain.errors import AlertNotFoundError
from domain.ids import delivery_id
from domain.time import from_micros, micros
from interfaces.graphql.configuration import ManagedBy, managed_by
from interfaces.graphql.context import Ctx
from interfaces.graphql.pagination import DEFAULT_PAGE_SIZE, PageInfo, page_size, position_after
from interfaces.rest.representations import encode_cursor


@strawberry.type(description="One state change of an alert rule and the value that caused it.")
class AlertStateChange:
    version: int
    state: str = strawberry.field(description="ok (created), firing or resolved.")
    at: datetime
    value: float | None
    cause: JSON | None = strawberry.field(description=(
        "What a firing's value counted, where the number alone does not say: "
        "{groups: [{fingerprint, exception_type, message, reports}]} for exception groups, "
        "{monitor: {id, name}} for a monitor; null otherwise."))
    notified: list[str] = strawberry.field(description="The channel ids told.")
    suppressed: str | None = strawberry.field(
        description="Why no one was told: muted, cooldown or maintenance.")
    reason: str | None = strawberry.field(
        description="created, condition changed (back to ok), or told late (still firing once "
                    "its mute, cooldown or maintenance was over); null: the value crossed.")


@strawberry.type(description="One attempt at sending a webhook.")
class DeliveryAttempt:
    attempt: int
    attempted_at: datetime | None
    status_code: int | None
    error: str | None
    duration_ms: float | None
    outcome: str | None


@strawberry.type(description="One webhook to a channel: alert.fired, alert.resolved or alert.test.")
class AlertDelivery:
    id: strawberry.ID
    type: str
    occurred_at: datetime | None
    status: str = strawberry.field(description=(
        "pending (to be tried, or retrying), delivered, failed, cancelled (its channel is gone), "
        "or expired (never tried within a week of its event: the worker was down)."))
    next_attempt_at: datetime | None
    attempts: list[DeliveryAttempt]


@strawberry.type(description="A webhook an alert tells (its secret is shown once, over REST).")
class AlertChannel:
    id: strawberry.ID
    type: str
    url: str

    @strawberry.field(description="Its latest webhooks, newest first, with every attempt.")
    async def deliveries(self, info: Ctx, first: int = 10) -> list[AlertDelivery]:
        rows = await info.context.channel_deliveries.load((str(self.id), max(1, min(first, 100))))
        now = micros(info.context.beacon.alert_webhooks.clock())
        return [AlertDelivery(
            id=strawberry.ID(str(delivery_id(row["subscriber_id"], row["incident_id"],
                                             int(row["version"])))),
            type=row["event_type"], occurred_at=from_micros(row["occurred_at"]),
            status=delivery_status(row["status"], int(row["occurred_at"]), now),
            next_attempt_at=from_micros(row["next_attempt_at"]),
            attempts=[DeliveryAttempt(
                attempt=int(a["attempt"]), attempted_at=from_micros(a["attempted_at"]),
                status_code=a["status_code"], error=a["error"], duration_ms=a["duration_ms"],
                outcome=a["outcome"]) for a in row["attempt_log"]]) for row in rows]


@strawberry.type(description="An alert rule: a condition, where to say so, and its state.")
class Alert:
    id: strawberry.ID
    name: str
    description: str | None = strawberry.field(
        description="What the rule means and what to do when it fires (sent with its webhooks).")
    condition: JSON
    channels: list[AlertChannel]
    cooldown_seconds: int
    state: str
    state_since: datetime | None
    muted_until: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    @strawberry.field(description="The beacon.yml version that owns this rule (null: the API "
                                  "owns it).")
    async def managed_by(self, info: Ctx) -> ManagedBy | None:
        return await managed_by(info, "alerts", self.name, self.id)

    @strawberry.field(description="Its state changes, oldest first (newest first with "
                                  "`newestFirst`), at most `first` (1 to 1000) of those past "
                                  "the change of version `afterVersion` in that order: the "
                                  "next page passes the last change's version.")
    async def history(self, info: Ctx, first: int = 100, after_version: int | None = None,
                      newest_first: bool = False) -> list[AlertStateChange]:
        limit, ctx = page_size(first), info.context
        entries = await run_in_threadpool(
            lambda: ctx.beacon.alerts.alert_history(ctx.workspace_id, UUID(self.id), limit=limit,
                                                    after=after_version,
                                                    newest_first=newest_first))
        return [AlertStateChange(**entry) for entry in entries]

    @classmethod
    def from_aggregate(cls, alert: AlertAggregate) -> Alert:
        return cls(
            id=strawberry.ID(str(alert.id)), name=alert.name, description=alert.description,
            condition=JSON(alert.condition),
            channels=[AlertChannel(id=strawberry.ID(c["id"]), type=c["type"], url=c["url"])
                      for c in alert.channels],
            cooldown_seconds=alert.cooldown_seconds, state=alert.state,
            state_since=alert.state_since, muted_until=alert.muted_until,
            created_at=alert.created_on, updated_at=alert.modified_on, version=alert.version)


@strawberry.type
class AlertEdge:
    cursor: str
    node: Alert


@strawberry.type(description="A page of alert rules, oldest first.")
class AlertConnection:
    edges: list[AlertEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="The workspace's alert rules, across all pages.")


async def alert(info: Ctx, id: strawberry.ID) -> Alert | None:
    """An alert rule; null when this workspace has no such rule."""
    try:
        alert_id = UUID(id)
    except ValueError:
        return None
    ctx = info.context
    try:
        found = await run_in_threadpool(ctx.beacon.alerts.get_alert, ctx.workspace_id, alert_id)
    except AlertNotFoundError:
        return None
    return Alert.from_aggregate(found)


@strawberry.enum(description="An alert rule's state.")
class AlertState(Enum):
    OK = "ok"
    FIRING = "firing"


async def alerts(info: Ctx, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None,
                 state: AlertState | None = None) -> AlertConnection:
    """The workspace's alert rules (only those in `state`, if given), oldest first: `first`
    (1-100) after the cursor `after`."""
    ctx, limit, position = info.context, min(page_size(first), 100), position_after(after)
    wanted = state.value if state else None

    def read() -> tuple[Any, dict[str, AlertAggregate]]:
        page = ctx.beacon.alert_queries.list_alerts(str(ctx.workspace_id), position, limit,
                                                    wanted)
        found = ctx.beacon.alerts.alerts(ctx.workspace_id, [row["id"] for row in page.items],
                                         wanted)
        return page, {str(alert.id): alert for alert in found}

    page, found = await run_in_threadpool(read)
    edges = [AlertEdge(cursor=encode_cursor(int(row["created_at"]), row["id"]),
                       node=Alert.from_aggregate(found[row["id"]]))
             for row in page.items if row["id"] in found]  # deleted since the list was read: left out
    cursor = encode_cursor(*page.next_cursor) if page.next_cursor else None
    return AlertConnection(edges=edges, total_count=page.total, page_info=PageInfo(
        has_next_page=page.has_more, end_cursor=edges[-1].cursor if edges else cursor))
