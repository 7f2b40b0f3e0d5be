"""An accepted batch: one domain event carrying every event admitted from one request.

DESIGN.md decision 3: batch-level storage writes and replays far faster than one aggregate per
tracked event. The events travel as one JSON document so the batch is (de)serialised in one go.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate


class JsonText(str):
    """A str that holds JSON text: stored inside its event's JSON as that JSON, not escaped into a
    string, so the state is smaller and nothing is unescaped when it is read back."""


class EventBatch(Aggregate):
    """Immutable once accepted."""

    def __init__(self, workspace_id: UUID, received_at: datetime, count: int, events_json: str,
                 client: dict[str, Any] | None = None):
        self.workspace_id = workspace_id
        self.received_at = received_at
        self.count = count

    class Accepted(Aggregate.Created):
        workspace_id: UUID
        received_at: datetime
        count: int
        events_json: str  # a JSON array of TrackedEvents, each an object of its fields (a JsonText)
        # Who sent them, as kept (domain/enrichment.py Client.stored), with the events whose actor
        # is their visitor id and those whose SDK context named another client. Batches stored
        # before 2026-12-04 have none: read it with getattr(event, "client", None).
        client: dict[str, Any] | None

    @classmethod
    def accept(cls, *, batch_id: UUID, workspace_id: UUID, received_at: datetime,
               events_json: str, count: int, client: dict[str, Any] | None = None) -> EventBatch:
        return cls._create(cls.Accepted, id=batch_id, timestamp=received_at,
                           workspace_id=workspace_id, received_at=received_at, count=count,
                           events_json=events_json, client=client)
