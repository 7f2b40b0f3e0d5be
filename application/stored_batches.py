"""A batch's stored form: its events as JSON text, the transcoding that keeps them so, and the
mapper that maps a batch ahead of the workspace's lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast
from uuid import UUID

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent, Transcoding
from uuid6 import uuid7

from domain.batch import EventBatch, JsonText
from domain.tracked_event import TrackedEvent


def encode(events: list[TrackedEvent]) -> JsonText:
    """A batch's events_json: each TrackedEvent's fields, its stored record, in order.

    From each event's `__dict__` (its fields, in order, and nothing else): the same JSON as
    orjson makes of the dataclasses themselves, and no slower (docs/performance-history.md)."""
    return JsonText(orjson.dumps([event.__dict__ for event in events]).decode())


def batch_accepted(workspace_id: UUID, events: list[TrackedEvent], received: datetime,
                   client: dict[str, Any] | None = None) -> EventBatch.Accepted:
    """The domain event of a batch of these events (saved as is: batches are never read back
    as aggregates)."""
    accepted = EventBatch.accept(batch_id=uuid7(), workspace_id=workspace_id,
                                 received_at=received, events_json=encode(events),
                                 count=len(events), client=client)
    return cast(EventBatch.Accepted, accepted.collect_events()[0])


class JsonTextAsJson(Transcoding):
    """JsonText in the library's format: `{"_type_": "json_text", "_data_": <the JSON itself>}`
    as the fast transcoder writes it (the library's own encoder writes a JsonText as the plain
    string it also is, which reads back as a str)."""

    type = JsonText
    name = "json_text"

    def encode(self, obj: JsonText) -> str:
        return str(obj)

    def decode(self, data: Any) -> str:
        # The fast transcoder hands over the text itself, never parsed. The library's own decoder
        # (Beacon does not use it on these states) would hand it over parsed, any object in it
        # with a "_type_" key taken for a transcoded value.
        return data if isinstance(data, str) else orjson.dumps(data).decode()


class AheadMapper(Mapper[UUID]):
    """The library's mapper, except that the domain event this thread mapped `ahead` is not
    mapped again when saved. A batch's stored form (its JSON escaped into the state, then
    compressed) is most of a request's CPU: mapped ahead, before the workspace's lock, that is
    taken off the time every other writer of the workspace waits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._mapped = threading.local()

    @contextmanager
    def ahead(self, event: DomainEventProtocol[UUID]) -> Iterator[None]:
        self._mapped.ahead = (event, super().to_stored_event(event))
        try:
            yield
        finally:
            self._mapped.ahead = None

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        ahead = getattr(self._mapped, "ahead", None)
        if ahead is not None and ahead[0] is domain_event:
            return ahead[1]  # type: ignore[no-any-return]
        return super().to_stored_event(domain_event)
