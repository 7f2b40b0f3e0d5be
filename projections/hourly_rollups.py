"""The hourly rollups of tracked events: per UTC hour of a workspace, how many events each name
had, and which actors and sessions sent any.

The overview counts every event of a range, and its distinct actors and sessions; at a million
events that is a million rows of `rm_events` a question. `rm_event_hours` holds the counts per
(workspace, name, hour), some 14,000 rows for 30 days of 20 names; `rm_actor_hours` and
`rm_session_hours` one row per actor (session) and hour it was active, about a tenth of the
events. The events projection writes them in the same page, so in the same transaction, as the
rows they roll up (docs/decisions/event-rollup.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import msgspec

from domain.time import start_of
from projections.model import BIGINT, TEXT, AddCounts, Table
from projections.model import UUID as UUID_COLUMN

HOUR = 3_600_000_000  # µs

EVENT_HOURS = Table(
    name="rm_event_hours",
    columns={"workspace_id": UUID_COLUMN, "name": TEXT, "hour": BIGINT, "events": BIGINT},
    # One name's hours read by the key; every name's hours of a range by the index. `events` is
    # in neither, so an increment leaves the index entries as they are.
    primary_key=("workspace_id", "name", "hour"),
    indexes=(("workspace_id", "hour"),),
)
# Distinct actors (sessions) of a range are the distinct ids of its hours' rows; `events` counts
# the hour's events of each, so that rows could be taken away again as they were added.
ACTOR_HOURS = Table(
    name="rm_actor_hours",
    columns={"workspace_id": UUID_COLUMN, "hour": BIGINT, "actor_id": TEXT, "events": BIGINT},
    primary_key=("workspace_id", "hour", "actor_id"),
)
SESSION_HOURS = Table(
    name="rm_session_hours",
    columns={"workspace_id": UUID_COLUMN, "hour": BIGINT, "session_id": TEXT, "events": BIGINT},
    primary_key=("workspace_id", "hour", "session_id"),
)
ROLLUPS = (EVENT_HOURS, ACTOR_HOURS, SESSION_HOURS)


class _Rolled(msgspec.Struct, gc=False):
    """The fields of a stored TrackedEvent the rollups read (the others are skipped)."""

    name: str
    timestamp_us: int
    actor_id: str | None = None
    session_id: str | None = None


_records = msgspec.json.Decoder(list[_Rolled])


def hour_counts(workspace_id: str, events_json: str) -> Iterator[AddCounts]:
    """What one accepted batch adds to the rollups: its events counted per (name, hour), per
    (hour, actor) and per (hour, session); events without an actor (session) add no such row."""
    records = _records.decode(str(events_json))  # msgspec takes no subclass (str of a str is it)
    # Whole columns at a time: Counter over zipped lists runs in C, a loop per record did not.
    hours = [start_of(r.timestamp_us, HOUR) for r in records]
    workspace = {"workspace_id": workspace_id}
    yield AddCounts(EVENT_HOURS.name, workspace, ("name", "hour"), "events",
                    Counter(zip([r.name for r in records], hours, strict=True)))
    for table, column in ((ACTOR_HOURS, "actor_id"), (SESSION_HOURS, "session_id")):
        counted = Counter(zip(hours, [getattr(r, column) for r in records], strict=True))
        for unnamed in [key for key in counted if key[1] is None]:
            del counted[unnamed]
        yield AddCounts(table.name, workspace, ("hour", column), "events", counted)
