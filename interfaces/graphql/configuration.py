"""What the project's configuration (beacon.yml) put in force: saved insights, and how often
ingested events broke its tracking plan."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.scalars import JSON

from domain.configuration import ProjectConfiguration
from interfaces.graphql.context import Ctx
from projections.model import micros


@strawberry.type(description="The beacon.yml version that owns an object: change it there (the "
                             "API refuses with 409), or drop it from beacon.yml to release it.")
class ManagedBy:
    file: str
    version: int


async def managed_by(info: Ctx, section: str, name: str, object_id: str) -> ManagedBy | None:
    """beacon.yml's claim on an object; the configuration is read once per request."""
    ctx = info.context
    configuration: ProjectConfiguration | None = getattr(ctx, "configuration_in_force", None)
    if configuration is None:
        configuration = await run_in_threadpool(ctx.beacon.configuration.configuration,
                                                ctx.workspace_id)
        ctx.configuration_in_force = configuration  # type: ignore[attr-defined]
    claim = configuration.claim(section, name, UUID(object_id))
    return None if claim is None else ManagedBy(file=claim["file"], version=claim["version"])


@strawberry.type(description="A named funnel, breakdown or timeseries deployed in beacon.yml.")
class SavedInsight:
    name: str
    type: str
    definition: JSON = strawberry.field(description="The query's parameters, as deployed.")
    deploy_version: int
    deployed_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SavedInsight:
        return cls(name=row["name"], type=row["type"], definition=row["definition"],
                   deploy_version=row["deploy_version"], deployed_at=row["deployed_at"])


async def saved_insights(info: Ctx) -> list[SavedInsight]:
    """The saved insights of the configuration in force, by name."""
    ctx = info.context
    rows = await run_in_threadpool(ctx.beacon.configuration_queries.saved_insights,
                                   ctx.workspace_id)
    return [SavedInsight.from_row(row) for row in rows]


@strawberry.type(description="Events of one name that broke the tracking plan.")
class TrackingPlanViolation:
    event_name: str
    count: int = strawberry.field(description="Violating events, accepted (flag) or refused.")
    rejected: int = strawberry.field(description="Of those, the ones refused (reject policy).")
    last_seen: datetime
    plan_version: int = strawberry.field(description="The latest plan version that saw one.")


async def tracking_plan_violations(
        info: Ctx, from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None) -> list[TrackingPlanViolation]:
    """Tracking-plan violations per event name, most first, observed in [from, to)."""
    ctx = info.context
    rows = await run_in_threadpool(
        ctx.beacon.configuration_queries.plan_violations, ctx.workspace_id,
        micros(from_) if from_ else None, micros(to) if to else None)
    return [TrackingPlanViolation(event_name=r["event_name"], count=r["count"],
                                  rejected=r["rejected"], last_seen=r["last_seen"],
                                  plan_version=r["plan_version"]) for r in rows]
