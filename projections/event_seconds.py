"""Per-second and per-minute event counts (`rm_event_seconds`, `rm_event_minutes`): what
threshold alert rules sum instead of counting `rm_events` rows.

A threshold rule counts one event name over a window of a minute to a day, and it is evaluated
every time a batch carrying that name is read. Counted from `rm_events`, each evaluation walks
every row of the window: at 50,000 events/s over twenty names, one minute of one name is 150,000
index entries, 78–350 ms of PostgreSQL a rule (docs/performance.md). Summed from this table it is
one row per whole minute of the window (at most 1,440 for a day), one per whole second of the
two partial minutes at its edges (at most 118) and the raw rows of the two partial seconds
(infrastructure/alert_meters.py). Seconds alone would be 86,400 rows for a day, 21–26 ms of
PostgreSQL a rule: as much as the rows of a busy minute.

A projection of its own, not a part of the events projection's page: the events rebuild and the
overview's rollups do not pay for it. It counts the events timed as they are sent: a batch adds a
row or a few per name. An event timed more than `LATE` before its batch arrived (a backfill, an
SDK's offline queue) would add a row of its own, up to a row an event for a backfill spread over
months (44% more projector time than the events projection's, measured): those are counted per
hour instead, in `rm_late_event_hours`, which only says whether a window must also count late
rows (it rarely must: a live window ends now, and a late event arriving now is older than any
window).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import msgspec
from eventsourcing.utils import get_topic

from domain.batch import EventBatch
from domain.time import start_of
from projections.hourly_rollups import HOUR
from projections.model import BIGINT, TEXT, AddCounts, Op, Projection, Table, micros
from projections.model import UUID as UUID_COLUMN

SECOND = 1_000_000  # µs
MINUTE = 60 * SECOND
LATE = 86_400 * SECOND  # a day, the longest window: older on arrival, an event is counted per hour

EVENT_SECONDS = Table(
    name="rm_event_seconds",
    columns={"workspace_id": UUID_COLUMN, "name": TEXT, "second": BIGINT, "events": BIGINT},
    # A rule's window is a range of one name's seconds: the key reads it. `events` is in no
    # index, so an increment leaves the index entries as they are.
    primary_key=("workspace_id", "name", "second"),
)
EVENT_MINUTES = Table(
    name="rm_event_minutes",  # the same counts as rm_event_seconds, a row a minute
    columns={"workspace_id": UUID_COLUMN, "name": TEXT, "minute": BIGINT, "events": BIGINT},
    primary_key=("workspace_id", "name", "minute"),
)
LATE_EVENT_HOURS = Table(
    name="rm_late_event_hours",
    columns={"workspace_id": UUID_COLUMN, "name": TEXT, "hour": BIGINT, "events": BIGINT},
    primary_key=("workspace_id", "name", "hour"),
)


class _Timed(msgspec.Struct, gc=False):
    """The fields of a stored TrackedEvent this projection reads (the others are skipped)."""

    name: str
    timestamp_us: int


_records = msgspec.json.Decoder(list[_Timed])


class EventSecondsProjection(Projection):
    """How many events of each name every second and every minute of a workspace had (by the
    events' own time), and every hour, of the events that arrived late."""

    name = "event_seconds"
    source = "Telemetry"
    tables = (EVENT_SECONDS, EVENT_MINUTES, LATE_EVENT_HOURS)
    topics = (get_topic(EventBatch.Accepted),)

    def ops(self, event: Any) -> Iterable[Op]:
        if not isinstance(event, EventBatch.Accepted):
            return
        records = _records.decode(str(event.events_json))  # msgspec takes no subclass
        workspace, late = {"workspace_id": str(event.workspace_id)}, micros(event.received_at) - LATE
        seconds = Counter((r.name, start_of(r.timestamp_us, SECOND))
                          for r in records if r.timestamp_us >= late)
        yield AddCounts(EVENT_SECONDS.name, workspace, ("name", "second"), "events", seconds)
        minutes: Counter[tuple[str, int]] = Counter()
        for (name, second), n in seconds.items():
            minutes[name, start_of(second, MINUTE)] += n
        yield AddCounts(EVENT_MINUTES.name, workspace, ("name", "minute"), "events", minutes)
        counted = Counter((r.name, start_of(r.timestamp_us, HOUR)) for r in records if r.timestamp_us < late)
        if counted:
            yield AddCounts(LATE_EVENT_HOURS.name, workspace, ("name", "hour"), "events", counted)
