"""The hourly rollup of tracked events: how many events of each name a workspace has per UTC hour.

The overview's chart and top events count every event of a range; at a million events that is a
million rows of `rm_events` a question. `rm_event_hours` holds the same counts per (workspace,
name, hour), some 14,000 rows for 30 days of 20 names, and is written by the events projection in
the same page, so in the same transaction, as the rows it counts (docs/decisions/event-rollup.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import msgspec

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


class _Counted(msgspec.Struct, gc=False):
    """The two fields of a stored TrackedEvent the rollup reads (the others are skipped)."""

    name: str
    timestamp_us: int


_records = msgspec.json.Decoder(list[_Counted])


def hour_of(moment_us: int) -> int:
    """The start (µs) of the UTC hour holding `moment_us`."""
    return moment_us - moment_us % HOUR  # Python's % is never negative here: floors before 1970 too


def hour_counts(workspace_id: str, events_json: str) -> Iterator[AddCounts]:
    """What one accepted batch adds to the rollup: its events counted per (name, hour)."""
    text = events_json if type(events_json) is str else str(events_json)  # msgspec: no subclasses
    counted = Counter((record.name, hour_of(record.timestamp_us)) for record in _records.decode(text))
    for (name, hour), events in counted.items():
        yield AddCounts(EVENT_HOURS.name, {"workspace_id": workspace_id, "name": name, "hour": hour},
                        {"events": events})
