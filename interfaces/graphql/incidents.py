"""Incidents: the `incident` and `incidents` queries and the types they return."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import strawberry
from starlette.concurrency import run_in_threadpool

from domain.errors import IncidentNotFoundError
from domain.incident import Incident as IncidentAggregate
from interfaces.graphql.context import Ctx
from interfaces.graphql.history import HistoryEntry
from interfaces.graphql.lookup import found_or_none
from interfaces.graphql.pagination import (
    DEFAULT_PAGE_SIZE,
    PageInfo,
    cursor_of,
    page_size,
    position_after,
)
from projections.incidents import IncidentSummary
from projections.model import from_micros


@strawberry.enum
class IncidentImpact(Enum):
    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


@strawberry.enum
class IncidentState(Enum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


@strawberry.type(description="A timeline entry shown on the status page.")
class IncidentUpdate:
    id: strawberry.ID
    message: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> IncidentUpdate:
        return cls(id=strawberry.ID(row["id"]), message=row["message"],
                   created_at=row["created_at"])


@strawberry.type(description="An incident on a status page.")
class Incident:
    id: strawberry.ID
    page_slug: str
    title: str
    impact: IncidentImpact
    state: IncidentState
    resolved: bool
    resolved_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    # Set when the incident came from its aggregate (possibly as of a past moment).
    known_updates: strawberry.Private[list[dict[str, Any]] | None] = None

    @strawberry.field(description="The public timeline, oldest first.")
    async def updates(self, info: Ctx) -> list[IncidentUpdate]:
        rows = self.known_updates
        if rows is None:
            rows = await info.context.updates.load(UUID(self.id))
        return [IncidentUpdate.from_row(row) for row in rows]

    @strawberry.field(description="Every change up to this version, oldest first.")
    async def history(self, info: Ctx) -> list[HistoryEntry]:
        entries = await info.context.history.load(UUID(self.id))
        return [HistoryEntry.from_row(e) for e in entries if e["version"] <= self.version]

    @classmethod
    def from_aggregate(cls, incident: IncidentAggregate) -> Incident:
        return cls(
            id=strawberry.ID(str(incident.id)), page_slug=incident.page_slug,
            title=incident.title, impact=IncidentImpact(incident.impact),
            state=IncidentState(incident.state), resolved=incident.resolved,
            resolved_at=incident.resolved_at, created_at=incident.created_on,
            updated_at=incident.modified_on, version=incident.version,
            known_updates=list(incident.updates),
        )

    @classmethod
    def from_summary(cls, row: IncidentSummary) -> Incident:
        return cls(
            id=strawberry.ID(str(row.id)), page_slug=row.page_slug, title=row.title,
            impact=IncidentImpact(row.impact), state=IncidentState(row.state),
            resolved=row.resolved, resolved_at=row.resolved_at, created_at=row.created_at,
            updated_at=row.updated_at, version=row.version,
        )


@strawberry.type(description="A status page of this workspace.")
class StatusPage:
    slug: str
    name: str
    created_at: datetime


@strawberry.type
class IncidentEdge:
    cursor: str
    node: Incident


@strawberry.type(description="A page of incidents, newest first.")
class IncidentConnection:
    edges: list[IncidentEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Incidents matching, across all pages.")


async def incident(info: Ctx, id: strawberry.ID, as_of: datetime | None = None,
                   ) -> Incident | None:
    """An incident now, or as it was at `asOf`; null when this workspace has no such incident."""
    ctx = info.context
    found = await found_or_none(
        id, lambda key: ctx.beacon.statuspages.get_incident(ctx.workspace_id, key, as_of=as_of),
        IncidentNotFoundError)
    return Incident.from_aggregate(found) if found is not None else None


async def incidents(info: Ctx, page_slug: str, state: IncidentState | None = None,
                    first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None) -> IncidentConnection:
    """A page's incidents, newest first: `first` (1-100) after the cursor `after`."""
    ctx, limit, position = info.context, page_size(first), position_after(after)

    def read() -> Any:
        ctx.beacon.statuspages.get_page(ctx.workspace_id, page_slug)
        return ctx.beacon.incidents.list_incidents(
            ctx.workspace_id, page_slug, state=state.value if state else None,
            after=position, limit=limit)

    page = await run_in_threadpool(read)
    edges = [IncidentEdge(cursor=cursor_of(row.created_at, str(row.id)),
                          node=Incident.from_summary(row)) for row in page.items]
    return IncidentConnection(
        edges=edges, total_count=page.total,
        page_info=PageInfo(has_next_page=page.has_more,
                           end_cursor=edges[-1].cursor if edges else None),
    )


async def pages(info: Ctx) -> list[StatusPage]:
    """This workspace's status pages, oldest first."""
    ctx = info.context
    rows = await run_in_threadpool(ctx.beacon.public_pages.pages_of, ctx.workspace_id)
    return [StatusPage(slug=r["slug"], name=r["name"], created_at=from_micros(r["created_at"]))
            for r in rows]
