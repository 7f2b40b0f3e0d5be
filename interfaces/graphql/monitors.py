"""Monitors: the `monitor` and `monitors` queries, with each monitor's beats, runs, flips and
settings history (batched per request by DataLoaders, so a list costs one query per kind)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader

from domain.errors import MonitorNotFoundError
from interfaces.graphql.configuration import ManagedBy, managed_by
from interfaces.graphql.context import Ctx, GraphQLContext
from interfaces.graphql.history import HistoryEntry
from interfaces.graphql.lookup import found_or_none
from interfaces.graphql.pagination import (
    DEFAULT_PAGE_SIZE,
    PageInfo,
    cursor_of,
    page_size,
    position_after,
)
from interfaces.rest.uptime import uptime_of_monitor
from projections.monitors import MonitorRow

Rows = list[dict[str, Any]]
MAX_NESTED = 100


@strawberry.enum
class MonitorStatus(Enum):
    NEW = "new"
    UP = "up"
    LATE = "late"
    DOWN = "down"
    PAUSED = "paused"


@strawberry.enum
class BeatKind(Enum):
    SUCCESS = "success"
    START = "start"
    FAIL = "fail"
    LOG = "log"


@strawberry.type(description="A cron expression read in an IANA time zone.")
class CronSchedule:
    cron: str
    tz: str


@strawberry.type(description="A signal a monitor received: success, start, fail or log.")
class Beat:
    at: datetime
    kind: str
    rid: str | None
    exit_status: int | None
    value: float | None
    body: str | None


@strawberry.type(description="A job run: from its start to what ended it.")
class Run:
    rid: str | None
    started_at: datetime
    ended_at: datetime | None
    duration_ms: int | None
    outcome: str = strawberry.field(description="running, success, fail, exit_status, "
                                                "run_too_short or abandoned")
    exit_status: int | None
    timed_out: bool


@strawberry.type(description="A status change: when it took effect, from what to what, and why.")
class Flip:
    at: datetime
    recorded_at: datetime
    before: str
    after: str
    reason: str
    rid: str | None
    exit_status: int | None


@dataclass
class MonitorLoaders:
    """This request's loaders, keyed by (monitor id, how many)."""

    latest: DataLoader[tuple[str, UUID, int, str | None], Rows]
    history: DataLoader[UUID, Rows]


def loaders(ctx: GraphQLContext) -> MonitorLoaders:
    """The monitor loaders of this request's context, made on first use."""
    found = getattr(ctx, "monitor_loaders", None)
    if found is None:
        async def load_latest(keys: list[tuple[str, UUID, int, str | None]]) -> list[Rows]:
            """One query per kind of list (and page size, and beat kind) a request asks for."""
            answers: dict[tuple[str, UUID, int, str | None], Rows] = {}
            for what, first, kind in {(k[0], k[2], k[3]) for k in keys}:
                ids = [k[1] for k in keys if (k[0], k[2], k[3]) == (what, first, kind)]
                rows = await run_in_threadpool(ctx.beacon.monitor_activity.latest, what,
                                               ctx.workspace_id, ids, first, kind)
                answers.update({(what, i, first, kind): found for i, found in rows.items()})
            return [answers[key] for key in keys]

        async def load_history(ids: list[UUID]) -> list[Rows]:
            return await run_in_threadpool(lambda: [_history(ctx, i) for i in ids])

        found = MonitorLoaders(latest=DataLoader(load_fn=load_latest),
                               history=DataLoader(load_fn=load_history))
        ctx.monitor_loaders = found  # type: ignore[attr-defined]
    return found


def _history(ctx: GraphQLContext, monitor_id: UUID) -> Rows:
    try:
        return ctx.beacon.monitoring.history(ctx.workspace_id, monitor_id)
    except MonitorNotFoundError:
        return []


def _nested(first: int) -> int:
    return min(max(first, 1), MAX_NESTED)


@strawberry.type(description="Uptime over a span: down counts as a major outage, maintenance that "
                             "covers the monitor is left out (README: Uptime).")
class UptimeSpan:
    start: datetime = strawberry.field(name="from")
    end: datetime = strawberry.field(name="to")
    uptime_percent: float | None = strawberry.field(description="Null when nothing was observed.")
    observed_seconds: float
    major_outage_seconds: float
    partial_outage_seconds: float
    degraded_seconds: float
    maintenance_seconds: float

    @classmethod
    def of(cls, tally: dict[str, Any]) -> UptimeSpan:
        return cls(start=tally["from"], end=tally["to"], **{
            k: v for k, v in tally.items() if k not in ("from", "to", "intervals")})


@strawberry.type(description="A monitor's uptime over a range, and per interval of it.")
class Uptime(UptimeSpan):
    intervals: list[UptimeSpan]


@strawberry.type(description="A heartbeat monitor.")
class Monitor:
    id: strawberry.ID
    name: str
    status: str = strawberry.field(description="new, up, late, down or paused")
    status_since: datetime
    period_seconds: int | None
    schedule: CronSchedule | None
    grace_seconds: int | None
    max_runtime_seconds: int | None
    min_runtime_seconds: int | None
    page_slug: str | None
    last_beat_at: datetime | None
    next_expected_at: datetime | None
    down_at: datetime | None
    created_at: datetime
    settings_version: int | None = strawberry.field(
        description="The ETag of the monitor's settings (null in lists).")

    @strawberry.field(description="The beacon.yml version that owns this monitor (null: the "
                                  "API owns it).")
    async def managed_by(self, info: Ctx) -> ManagedBy | None:
        return await managed_by(info, "monitors", self.name, self.id)

    @strawberry.field(description="The latest signals, newest first (at most 100).")
    async def beats(self, info: Ctx, first: int = 20, kind: BeatKind | None = None) -> list[Beat]:
        rows = await loaders(info.context).latest.load(
            ("beats", UUID(self.id), _nested(first), kind.value if kind else None))
        return [Beat(at=r["at"], kind=r["kind"], rid=r["rid"], exit_status=r["exit_status"],
                     value=r["value"], body=r["body"]) for r in rows]

    @strawberry.field(description="The latest runs, newest first (at most 100).")
    async def runs(self, info: Ctx, first: int = 20) -> list[Run]:
        rows = await loaders(info.context).latest.load(("runs", UUID(self.id), _nested(first),
                                                        None))
        return [Run(rid=r["rid"], started_at=r["started_at"], ended_at=r["ended_at"],
                    duration_ms=r["duration_ms"], outcome=r["outcome"],
                    exit_status=r["exit_status"], timed_out=r["timed_out"]) for r in rows]

    @strawberry.field(description="The latest status changes, newest first (at most 100).")
    async def flips(self, info: Ctx, first: int = 20) -> list[Flip]:
        rows = await loaders(info.context).latest.load(("flips", UUID(self.id), _nested(first),
                                                        None))
        return [Flip(at=r["at"], recorded_at=r["recorded_at"], before=r["before"],
                     after=r["after"], reason=r["reason"], rid=r["rid"],
                     exit_status=r["exit_status"]) for r in rows]

    @strawberry.field(description="Uptime over [from, to) (default: since creation, until now), "
                                  "with one entry per interval (hour, day or week).")
    async def uptime(self, info: Ctx,
                     start: Annotated[datetime | None, strawberry.argument(name="from")] = None,
                     end: Annotated[datetime | None, strawberry.argument(name="to")] = None,
                     interval: str = "day") -> Uptime:
        ctx = info.context
        body = await run_in_threadpool(uptime_of_monitor, ctx.beacon, ctx.workspace_id,
                                       UUID(self.id), start, end, interval)
        return Uptime(**vars(UptimeSpan.of(body)), intervals=[UptimeSpan.of(t) for t in body["intervals"]])

    @strawberry.field(description="Every change to the settings, oldest first.")
    async def history(self, info: Ctx) -> list[HistoryEntry]:
        entries = await loaders(info.context).history.load(UUID(self.id))
        return [HistoryEntry.from_row(e) for e in entries]

    @classmethod
    def from_row(cls, r: MonitorRow, settings_version: int | None = None) -> Monitor:
        return cls(id=strawberry.ID(str(r.id)),
                   schedule=CronSchedule(**r.schedule) if r.schedule else None,
                   settings_version=settings_version,
                   **{name: getattr(r, name) for name in AS_STORED})


# The row's fields the type shows as they are (its id and schedule change type; the incident's
# id is the REST answer's only).
AS_STORED = tuple(f.name for f in fields(MonitorRow) if f.name not in ("id", "schedule", "incident_id"))


@strawberry.type
class MonitorEdge:
    cursor: str
    node: Monitor


@strawberry.type(description="A page of monitors, newest first.")
class MonitorConnection:
    edges: list[MonitorEdge]
    page_info: PageInfo


async def monitor(info: Ctx, id: strawberry.ID, as_of: datetime | None = None) -> Monitor | None:
    """A monitor now, or as it was at `asOf`; null when this workspace has no such monitor."""
    ctx = info.context
    found = await found_or_none(
        id, lambda key: ctx.beacon.monitoring.get_monitor(ctx.workspace_id, key, as_of=as_of),
        MonitorNotFoundError)
    return Monitor.from_row(MonitorRow.of(found), found.config_version) if found else None


async def monitors(info: Ctx, status: MonitorStatus | None = None,
                   first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None,
                   ) -> MonitorConnection:
    """The workspace's monitors, newest first: `first` (1-1000) after the cursor `after`."""
    ctx = info.context
    page = await run_in_threadpool(
        ctx.beacon.monitors.list_monitors, ctx.workspace_id,
        status=status.value if status else None, after=position_after(after),
        limit=page_size(first))
    edges = [MonitorEdge(cursor=cursor_of(row.created_at, str(row.id)),
                         node=Monitor.from_row(row)) for row in page.items]
    return MonitorConnection(edges=edges, page_info=PageInfo(
        has_next_page=page.has_more, end_cursor=edges[-1].cursor if edges else None))
