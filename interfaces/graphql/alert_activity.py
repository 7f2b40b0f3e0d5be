"""The workspace's alert activity: `alertActivity`, every rule's state changes newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.scalars import JSON

from domain.time import from_micros
from interfaces.graphql.context import Ctx
from interfaces.graphql.pagination import PageInfo, page_size
from interfaces.rest.alerts import activity_cursor, activity_window
from interfaces.rest.representations import encode_cursor
from projections.alert_activity import activity_key

From = Annotated[datetime | None, strawberry.argument(
    name="from", description="Inclusive; a day before `to` when not given.")]
To = Annotated[datetime | None, strawberry.argument(
    description="Exclusive; when not given, up to now (what happened this moment included).")]


@strawberry.type(description="A rule firing, telling late that it fires, or resolving.")
class AlertActivityEntry:
    alert_id: strawberry.ID
    alert_name: str | None = strawberry.field(description="The rule's name at the time of reading.")
    version: int
    state: str = strawberry.field(description="firing, told late or resolved.")
    at: datetime
    value: float | None
    notified: list[str] = strawberry.field(description="The channel ids told.")
    suppressed: str | None = strawberry.field(
        description="Why no one was told: muted, cooldown or maintenance.")
    cause: JSON | None = strawberry.field(description="What a firing's value counted, as in "
                                                      "the rule's history.")


@strawberry.type
class AlertActivityEdge:
    cursor: str
    node: AlertActivityEntry


@strawberry.type
class AlertActivityConnection:
    edges: list[AlertActivityEdge]
    page_info: PageInfo


async def alert_activity(info: Ctx, from_: From = None, to: To = None, first: int | None = 50,
                         after: str | None = None) -> AlertActivityConnection:
    """Every firing, late telling and resolution of the workspace's rules in [from, to), newest
    first: `first` (1-100) after the cursor `after`."""
    ctx = info.context
    limit = min(page_size(first), 100)
    before = activity_cursor(after) if after else None
    page = await run_in_threadpool(ctx.beacon.alert_activity.activity, str(ctx.workspace_id),
                                   *activity_window(from_, to, ctx.beacon.alerts.clock()),
                                   before, limit)
    edges = [AlertActivityEdge(
        cursor=encode_cursor(*activity_key(row)),
        node=AlertActivityEntry(
            alert_id=strawberry.ID(row["alert_id"]), alert_name=row["name"],
            version=int(row["version"]), state=row["state"], at=from_micros(row["at"]),
            value=row["value"], notified=row["notified"], suppressed=row["suppressed"],
            cause=row["cause"])) for row in page.items]
    return AlertActivityConnection(edges=edges, page_info=PageInfo(
        has_next_page=page.has_more, end_cursor=edges[-1].cursor if edges else None))
