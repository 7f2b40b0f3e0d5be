"""What the pipeline derived from an event: its content hash, geo and device (GraphQL types)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.scalars import JSON

from interfaces.graphql.context import Ctx
from projections.model import from_micros


@strawberry.type(description="What Beacon derived from a stored event, and with what.")
class Enrichment:
    content_hash: str = strawberry.field(description="SHA-256 (hex) of the event's canonical form "
                                                     "(docs/decisions/enrichment-pipeline.md)")
    country: str | None
    region: str | None
    city: str | None
    browser: str | None
    os: str | None
    device_type: str | None
    derived_with: JSON
    position: int = strawberry.field(description="The source's position in the Telemetry log")

    @classmethod
    def from_row(cls, found: dict[str, Any] | None) -> Enrichment | None:
        return None if found is None else cls(**found)


@strawberry.type(description="One stored event, as accepted, with its enrichment.")
class StoredEvent:
    event_id: strawberry.ID
    name: str
    category: str
    actor_id: str | None
    session_id: str | None
    source_app: str | None
    source_version: str | None
    timestamp: datetime
    received_at: datetime
    properties: JSON | None
    enrichment: Enrichment | None


async def event(info: Ctx, id: strawberry.ID) -> StoredEvent | None:
    """One stored event by id with its content hash and enrichment; null if this workspace has none."""
    ctx = info.context
    row = await run_in_threadpool(ctx.beacon.enriched.event, ctx.workspace_id, str(id).lower())
    if row is None:
        return None
    return StoredEvent(
        event_id=strawberry.ID(row["event_id"]), name=row["name"], category=row["category"],
        actor_id=row["actor_id"], session_id=row["session_id"], source_app=row["source_app"],
        source_version=row["source_version"], timestamp=from_micros(row["timestamp"]),
        received_at=from_micros(row["received_at"]),
        properties=row["properties"], enrichment=Enrichment.from_row(row["enrichment"]))
