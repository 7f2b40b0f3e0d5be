"""An incident's audit trail: one entry per event, with who changed which field from what to what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON


@strawberry.type(description="The API key (or admin, or system) behind a change.")
class Actor:
    key_id: str | None
    name: str


@strawberry.type(description="One field of a change, before and after (null when it had none).")
class FieldChange:
    field: str
    before: JSON | None
    after: JSON | None


@strawberry.type(description="One event in an incident's life.")
class HistoryEntry:
    version: int
    type: str = strawberry.field(description="Opened, Changed, Resolved, Reopened, UpdatePosted")
    occurred_at: datetime
    actor: Actor
    changes: list[FieldChange]

    @classmethod
    def from_row(cls, entry: dict[str, Any]) -> HistoryEntry:
        return cls(
            version=entry["version"], type=entry["type"], occurred_at=entry["occurred_at"],
            actor=Actor(key_id=entry["actor"]["key_id"], name=entry["actor"]["name"]),
            changes=[FieldChange(field=c["field"], before=c["before"], after=c["after"])
                     for c in entry["changes"]],
        )
