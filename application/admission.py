"""What becomes of a request's events: the statuses, the outcome, and a batch's stored form.

How a request is admitted (docs/decisions/ledger-before-the-lock.md): its valid events are sorted
out and encoded first; then the ledger records their ids, and says which it already had
(duplicates); then, with the workspace's writers queued behind it, the quota decides how many of
the new ones it admits, and the decision, the batch and the ledger rows of what was admitted are
saved in one transaction. A database error anywhere writes nothing and answers 503.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import orjson

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


def encode(events: list[TrackedEvent]) -> str:
    """A batch's events_json."""
    return orjson.dumps(events).decode()  # a TrackedEvent's fields are its stored record
