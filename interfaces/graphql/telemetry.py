"""Sessions with their timelines, exception groups and usage, from the telemetry read models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.scalars import JSON

from interfaces.graphql.context import Ctx
from interfaces.graphql.enrichment import Enrichment
from interfaces.graphql.pagination import PageInfo, key_after, key_cursor, page_size, position_after
from interfaces.rest.errors import BadRequest
from interfaces.rest.representations import encode_cursor
from projections.model import from_micros, micros


@strawberry.type(description="One tracked event in a session's timeline.")
class SessionEvent:
    event_id: strawberry.ID
    name: str
    category: str
    actor_id: str
    source_app: str | None
    source_version: str | None
    timestamp: datetime
    received_at: datetime
    properties: JSON | None
    enrichment: Enrichment | None = strawberry.field(
        default=None, description="Content hash, geo and device (null until derived)")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SessionEvent:
        return cls(event_id=strawberry.ID(row["event_id"]), name=row["name"], category=row["category"],
                   actor_id=row["actor_id"], source_app=row["source_app"],
                   source_version=row["source_version"], timestamp=from_micros(row["timestamp"]),
                   received_at=from_micros(row["received_at"]),
                   properties=row["properties"],
                   enrichment=Enrichment.from_row(row.get("enrichment")))


@strawberry.type
class SessionEventEdge:
    cursor: str
    node: SessionEvent


@strawberry.type(description="A page of a session's timeline, in timestamp order.")
class SessionEventConnection:
    edges: list[SessionEventEdge]
    page_info: PageInfo


@strawberry.type(description="A session as the SDK started and ended it.")
class Session:
    id: strawberry.ID
    actor_id: str
    source_app: str
    source_version: str
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    last_activity_at: datetime | None
    duration_seconds: float | None

    @strawberry.field(description="The session's events in timestamp order.")
    async def events(self, info: Ctx, first: int | None = None,
                     after: str | None = None) -> SessionEventConnection:
        rows, has_more = await info.context.session_events.load((str(self.id), page_size(first), after))
        edges = [SessionEventEdge(cursor=encode_cursor(r["timestamp"], r["event_id"]),
                                  node=SessionEvent.from_row(r)) for r in rows]
        return SessionEventConnection(edges=edges, page_info=PageInfo(
            has_next_page=has_more, end_cursor=edges[-1].cursor if edges else None))

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Session:
        started, ended = row["started_at"], row["ended_at"]
        return cls(id=strawberry.ID(row["session_id"]), actor_id=row["actor_id"],
                   source_app=row["source_app"], source_version=row["source_version"],
                   started_at=from_micros(started),
                   ended_at=from_micros(ended), end_reason=row["end_reason"],
                   last_activity_at=from_micros(row["last_activity_at"]),
                   duration_seconds=(ended - started) / 1e6 if ended is not None else None)


@strawberry.type
class SessionEdge:
    cursor: str
    node: Session


@strawberry.type(description="A page of sessions, newest first.")
class SessionConnection:
    edges: list[SessionEdge]
    page_info: PageInfo


async def session(info: Ctx, id: strawberry.ID) -> Session | None:
    """A session by the id the SDK gave it; null if this workspace has none by that id."""
    ctx = info.context
    row = await run_in_threadpool(ctx.beacon.telemetry_queries.session, ctx.workspace_id, str(id))
    return Session.from_row(row) if row else None


def check_range(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and start >= end:
        raise BadRequest("`from` must be before `to`")


async def sessions(info: Ctx, actor_id: str | None = None,
                   from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
                   to: datetime | None = None, first: int | None = None,
                   after: str | None = None) -> SessionConnection:
    """Sessions newest first, optionally one actor's, started within [from, to)."""
    check_range(from_, to)
    ctx, limit, position = info.context, page_size(first), position_after(after)
    rows, has_more = await run_in_threadpool(
        ctx.beacon.telemetry_queries.sessions, ctx.workspace_id, actor_id=actor_id,
        from_us=micros(from_) if from_ else None, to_us=micros(to) if to else None,
        after=position, limit=limit)
    edges = [SessionEdge(cursor=encode_cursor(r["started_at"], r["session_id"]),
                         node=Session.from_row(r)) for r in rows]
    return SessionConnection(edges=edges, page_info=PageInfo(
        has_next_page=has_more, end_cursor=edges[-1].cursor if edges else None))


@strawberry.type(description="The most recent report of an exception group.")
class LatestException:
    stack_trace: str | None
    breadcrumbs: JSON | None


@strawberry.type(description="Exception reports of the same bug (the same fingerprint).")
class ExceptionGroup:
    fingerprint: str
    exception_type: str
    message: str | None
    severity: str
    count: int
    actors: int
    first_seen: datetime
    last_seen: datetime
    versions: list[str]
    latest: LatestException
    daily: list[int] = strawberry.field(description="Reports per day of the queried range (UTC "
                                                    "days counted from `from`), for a sparkline.")


@strawberry.type
class ExceptionGroupEdge:
    cursor: str
    node: ExceptionGroup


@strawberry.type(description="A page of exception groups, most frequent first.")
class ExceptionGroupConnection:
    edges: list[ExceptionGroupEdge]
    page_info: PageInfo


async def exception_groups(info: Ctx, from_: Annotated[datetime, strawberry.argument(name="from")],
                           to: datetime, source_app: str | None = None,
                           first: int | None = None, after: str | None = None) -> ExceptionGroupConnection:
    """Exception reports that occurred in [from, to), grouped by fingerprint."""
    check_range(from_, to)
    ctx, limit = info.context, page_size(first)
    groups, has_more = await run_in_threadpool(
        ctx.beacon.telemetry_queries.exception_groups, ctx.workspace_id, from_us=micros(from_),
        to_us=micros(to), source_app=source_app, after=key_after(after), limit=limit)
    days = await run_in_threadpool(
        ctx.beacon.telemetry_queries.exception_days, ctx.workspace_id,
        [g["fingerprint"] for g in groups], from_us=micros(from_), to_us=micros(to))
    edges = [ExceptionGroupEdge(cursor=key_cursor(g["count"], g["fingerprint"]), node=ExceptionGroup(
        fingerprint=g["fingerprint"], exception_type=g["exception_type"], message=g["message"],
        severity=g["severity"], count=g["count"], actors=g["actors"],
        first_seen=from_micros(g["first_seen"]), last_seen=from_micros(g["last_seen"]),
        versions=g["versions"], daily=days[g["fingerprint"]],
        latest=LatestException(stack_trace=g["stack_trace"], breadcrumbs=g["breadcrumbs"])))
        for g in groups]
    return ExceptionGroupConnection(edges=edges, page_info=PageInfo(
        has_next_page=has_more, end_cursor=edges[-1].cursor if edges else None))


@strawberry.type(description="This month's event quota (UTC calendar month).")
class Usage:
    period: str
    limit: int
    used: int
    remaining: int
    refused: int


async def usage(info: Ctx) -> Usage:
    """The workspace's quota: the limit, what is used, what remains, what was refused."""
    ctx = info.context
    limit = ctx.principal.workspace.monthly_event_limit or 0
    data = await run_in_threadpool(ctx.beacon.telemetry.usage, ctx.workspace_id, limit)
    return Usage(**data)
