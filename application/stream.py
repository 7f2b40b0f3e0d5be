"""The live event stream's vocabulary: where a message sits in the log, what a subscriber asks
for, and the message an accepted event or exception report becomes.

DESIGN.md decision 13: a stream reads the Telemetry log by position. A batch is one notification
carrying many events (domain/batch.py), so a message's position is `<notification id>.<index>`:
the notification, then the event's index inside it (an exception report is `<id>.0`). Positions
order as the log does, so "everything after `n.i`" resumes with no gap and no repeat; a bare `n`
means "after all of notification n" (where a subscriber that has been sent nothing yet stands).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple
from uuid import UUID

import orjson

from domain.batch import EventBatch
from domain.enrichment import DIMENSIONS
from domain.exception_report import ExceptionReport
from domain.numerals import is_numeral
from domain.time import iso, iso_of_micros

ENRICHED = tuple(DIMENSIONS.items())  # how a message shows them: ($country, country), …
EXCEPTION_NAME = "$exception"  # the `name` an exception report has in a stream, for `event=`


WHOLE = 2**31  # the index of "all of the notification": a bare `<notification>` id


class StreamPosition(NamedTuple):
    """A message's place in the Telemetry log: its notification, then its index in it. A bare
    `<notification>` stands for the end of that notification (everything in it is behind).
    A tuple: made for every streamed event, and ordered as the log is."""

    notification: int
    item: int = WHOLE  # the event's index in its batch

    def __str__(self) -> str:
        return str(self.notification) if self.item == WHOLE else \
            f"{self.notification}.{self.item}"

    @classmethod
    def parse(cls, text: str) -> StreamPosition | None:
        """The position a client sent back (SSE `Last-Event-ID`), or None if it is not one."""
        notification, dot, index = text.strip().partition(".")
        if not is_numeral(notification) or (dot and not (is_numeral(index) and int(index) < WHOLE)):
            return None
        return cls(int(notification), int(index) if dot else WHOLE)


@dataclass(frozen=True)
class StreamFilter:
    """What a subscriber wants: any of `events` (names; `$exception` for exception reports), one
    `actor_id`, and properties equal to these values (compared as JSON scalars written as text:
    `"pro"` matches the string pro, `3` the number 3, `true` the boolean). A key that names an
    enriched dimension (`$country`, `$browser`, …) matches the event's enrichment instead, as it
    does in analytics; a message without one matches no such filter."""

    events: frozenset[str] = frozenset()
    actor_id: str | None = None
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def dimensions(self) -> list[str]:
        """The enriched dimensions it filters by."""
        return [key for key in self.properties if key in DIMENSIONS]

    def admits(self, message: Message) -> bool:
        if self.events and message.name not in self.events:
            return False
        if self.actor_id is not None and message.actor_id != self.actor_id:
            return False
        found: dict[str, Any] | None = None
        for key, wanted in self.properties.items():
            if key in DIMENSIONS:
                if message.dimension(key) != wanted:
                    return False
                continue
            if found is None:
                found = message.fields.get("properties") or {}
            if key not in found or as_text(found[key]) != wanted:
                return False
        return True


def as_text(value: Any) -> str | None:
    """A property's value as a filter writes it; objects and arrays never match."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (bool, int, float)):
        return orjson.dumps(value).decode()
    return None


class Message:
    """One streamed event or exception report: its workspace, position, kind, name and actor, and
    its body. Made from the log, it holds the fields as stored and, once derived, the event's
    enrichment, shaped the way the API shows them only when a subscriber wants it (most filters
    read the name alone), then kept for every other subscriber. Made elsewhere (`encoded`: the
    enrichment pipeline's process, through Redis), it holds the body's JSON, parsed only if a
    filter asks for more than the name and the actor."""

    __slots__ = ("workspace_id", "position", "kind", "name", "actor_id", "_fields",
                 "_received_at", "_enrichment", "_visitor", "_shaped", "_data")

    def __init__(self, workspace_id: UUID, position: StreamPosition, kind: str,
                 fields: dict[str, Any], received_at: str | None,
                 enrichment: dict[str, Any] | None = None, visitor: bool = False):
        self.workspace_id, self.position, self.kind = workspace_id, position, kind
        self.name: str = fields["name"]
        self.actor_id: str | None = fields.get("actor_id")
        self._fields: dict[str, Any] | None = fields
        self._received_at = received_at
        self._enrichment, self._visitor = enrichment, visitor
        self._shaped = False
        self._data: bytes | None = None

    @classmethod
    def encoded(cls, workspace_id: UUID, position: StreamPosition, kind: str, name: str,
                actor_id: str | None, data: bytes) -> Message:
        """A message another process shaped and encoded: `data` is its body's JSON."""
        message = cls.__new__(cls)
        message.workspace_id, message.position, message.kind = workspace_id, position, kind
        message.name, message.actor_id = name, actor_id
        message._fields, message._received_at = None, None
        message._enrichment, message._visitor = None, False
        message._shaped, message._data = True, data
        return message

    @property
    def fields(self) -> dict[str, Any]:
        """The stored fields (`name`, `actor_id`, `properties`, …), for filters."""
        if self._fields is None:
            self._fields = orjson.loads(self._data or b"{}")
        return self._fields

    def dimension(self, name: str) -> Any:
        """An enriched dimension (`$country`, …): None until derived, or where nothing was."""
        if self._enrichment is not None:
            return self._enrichment.get(DIMENSIONS[name])
        return self.fields.get(name) if self._shaped else None

    @property
    def body(self) -> dict[str, Any]:
        """As the API shows it (see `shape`)."""
        if not self._shaped:  # in place: the fields were decoded for this message alone
            shape(self.fields, str(self.position), self._received_at, self._enrichment,
                  self.actor_id if self._visitor else None)
            self._shaped = True
        return self.fields

    @property
    def data(self) -> bytes:
        """The body as JSON, made once however many subscribers send it."""
        if self._data is None:
            self._data = orjson.dumps(self.body)
        return self._data


def shape(fields: dict[str, Any], position: str, received_at: str | None,
          enrichment: dict[str, Any] | None, visitor_id: str | None) -> dict[str, Any]:
    """A stored event's fields, in place, as the stream shows them: its time in ISO 8601, its
    position, when it was received, and what the pipeline derived (`content_hash`, `$country`,
    …, and `visitor_id` for an event sent without an actor)."""
    us = fields.pop("timestamp_us", None)  # (pop: two loops may shape a message at once)
    if us is not None:
        fields["timestamp"] = iso_of_micros(us)
    fields["received_at"] = received_at
    fields["position"] = position
    if visitor_id is not None:
        fields["visitor_id"] = visitor_id
    if enrichment is not None:
        fields["content_hash"] = enrichment.get("content_hash")
        for dimension, key in ENRICHED:
            fields[dimension] = enrichment.get(key)
    return fields


@dataclass
class Notification:
    """The messages of one notification of the log, with an index by name made once for every
    subscriber (most filter by name: each then looks at its names' messages only)."""

    messages: list[Message]
    _by_name: dict[str, list[Message]] | None = None

    def candidates(self, wanted: StreamFilter) -> list[Message]:
        """The messages `wanted` may admit, in log order."""
        if not wanted.events:
            return self.messages
        by_name = self._by_name
        if by_name is None:  # built whole, then shared: subscribers on other loops may race here
            by_name = {}
            for message in self.messages:
                by_name.setdefault(message.name, []).append(message)
            self._by_name = by_name
        found = [m for name in wanted.events for m in by_name.get(name, ())]
        return sorted(found, key=lambda m: m.position) if len(wanted.events) > 1 else found


def messages_of(notification_id: int, event: Any,
                records: list[dict[str, Any]] | None = None) -> list[Message]:
    """The messages of one stored domain event: one per accepted event of a batch, one for an
    exception report, none for anything else in the log. `records` is its recorded enrichment
    (domain/enrichment.py EventEnrichment: one record per event, in the batch's order)."""
    client = getattr(event, "client", None) or {}  # batches stored before enrichment have none
    visitors = set(client.get("visitors", ()))
    if isinstance(event, EventBatch.Accepted):
        received, workspace_id = iso(event.received_at), event.workspace_id
        return [Message(workspace_id, StreamPosition(notification_id, index), "event", record,
                        received, records[index] if records else None,
                        bool(visitors) and record["event_id"] in visitors)
                for index, record in enumerate(orjson.loads(event.events_json))]
    if isinstance(event, ExceptionReport.Reported):
        fields = {"name": EXCEPTION_NAME, **event.report, "fingerprint": event.fingerprint}
        return [Message(event.workspace_id, StreamPosition(notification_id, 0), "exception",
                        fields, iso(event.timestamp), records[0] if records else None,
                        event.exception_id in visitors)]
    return []
