"""What became of a request's events: a status each, and the quota's word on the request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from domain.tracked_event import TrackedEvent

ACCEPTED, DUPLICATE, INVALID, LIMIT_EXCEEDED = "accepted", "duplicate", "invalid", "limit_exceeded"


@dataclass
class Outcome:
    """What became of each event of a request, by index."""

    statuses: list[str]
    event_ids: list[str | None]
    errors: dict[int, list[dict[str, str]]] = field(default_factory=dict)
    quota_exhausted: bool = False
    used: int = 0
    remaining: int = 0
    resets_at: datetime | None = None

    def count(self, status: str) -> int:
        return self.statuses.count(status)


def sort_out(checked: list[TrackedEvent | list[dict[str, str]]]) -> tuple[Outcome, list[int]]:
    """Invalid events, duplicates earlier in the batch, and the fresh events' indexes."""
    outcome = Outcome(statuses=[INVALID] * len(checked), event_ids=[None] * len(checked))
    ids = [item.event_id if isinstance(item, TrackedEvent) else None for item in checked]
    if None not in ids and len(set(ids)) == len(ids):  # the usual batch, in bulk
        outcome.event_ids = cast(list[str | None], ids)
        return outcome, list(range(len(checked)))
    seen: set[str] = set()
    fresh: list[int] = []
    for index, item in enumerate(checked):
        if not isinstance(item, TrackedEvent):
            outcome.errors[index] = item
            continue
        outcome.event_ids[index] = item.event_id
        if item.event_id in seen:
            outcome.statuses[index] = DUPLICATE
        else:
            seen.add(item.event_id)
            fresh.append(index)
    return outcome, fresh
