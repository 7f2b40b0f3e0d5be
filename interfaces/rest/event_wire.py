"""The hot path of `POST /v1/events`: decode and check a whole batch in one pass.

msgspec checks the shape of every event in C (types, lengths, UUID spelling) while it decodes;
the rest of the rules are the domain's own functions (`parse_timestamp`, `check_properties`), so an
event this path accepts is exactly the TrackedEvent `check_event` would make of it. Anything this
path does not accept, even where `check_event` would, answers None: the caller then takes the
per-event path, which says precisely what is wrong with each event. Properties are decoded by
orjson, as on that path, so the same JSON gives the same values on both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
import orjson

from domain.time import micros
from domain.tracked_event import (
    CANONICAL_UUID,
    MAX_ACTOR,
    MAX_CATEGORY,
    MAX_FUTURE,
    MAX_NAME,
    MAX_SOURCE,
    TrackedEvent,
    check_properties,
    parse_timestamp,
)

MAX_BATCH = 1000


def _text(limit: int) -> object:
    return Annotated[str, msgspec.Meta(min_length=1, max_length=limit)]


Uuid = Annotated[str, msgspec.Meta(pattern=f"^{CANONICAL_UUID.pattern}$")]
Category, Name, Actor, Source = (_text(MAX_CATEGORY), _text(MAX_NAME), _text(MAX_ACTOR),
                                 _text(MAX_SOURCE))


class WireEvent(msgspec.Struct):
    """One event as an SDK sends it (seed 000)."""

    event_id: Uuid
    category: Category  # type: ignore[valid-type]
    name: Name  # type: ignore[valid-type]
    timestamp: Annotated[str, msgspec.Meta(min_length=10, max_length=40)]
    actor_id: Actor  # type: ignore[valid-type]
    source_app: Source | None = None  # type: ignore[valid-type]
    source_version: Source | None = None  # type: ignore[valid-type]
    properties: msgspec.Raw = msgspec.Raw(b"null")
    session_id: Uuid | None = None


BATCH = msgspec.json.Decoder(Annotated[list[WireEvent], msgspec.Meta(min_length=1, max_length=MAX_BATCH)])


def valid_batch(body: bytes, now: datetime) -> list[TrackedEvent] | None:
    """Every event of `body` if the body is a batch of valid events, else None."""
    try:
        wire = BATCH.decode(body)
    except (msgspec.DecodeError, RecursionError):  # ValidationError is a DecodeError
        return None
    latest = now + MAX_FUTURE
    problems: list[dict[str, str]] = []
    events = []
    for each in wire:
        timestamp = parse_timestamp(each.timestamp)
        if timestamp is None or timestamp > latest:
            return None
        try:
            properties = check_properties(orjson.loads(memoryview(each.properties)), problems)
        except orjson.JSONDecodeError:  # nested past orjson's limit: the slow path says so
            return None
        if problems:
            return None
        events.append(TrackedEvent(
            each.event_id.lower(), each.category, each.name, micros(timestamp), each.actor_id,
            each.source_app, each.source_version, properties,
            None if each.session_id is None else each.session_id.lower()))
    return events
