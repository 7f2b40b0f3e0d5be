"""The hot path of `POST /v1/events`: decode and check a whole batch in one pass.

msgspec checks the shape of every event in C (types, lengths) while it decodes; one regex match
checks the spelling of every id of the batch at once; the rest of the rules are the domain's own
functions (`timestamp_micros`, `check_properties`), so an
event this path accepts is exactly the TrackedEvent `check_event` would make of it. Anything this
path does not accept, even where `check_event` would, answers None: the caller then takes the
per-event path, which says precisely what is wrong with each event.

Flat properties (the common case) are checked in C too: scalars only, integers within 64 bits,
where msgspec and orjson read the same JSON as the same values. A batch with nested properties
is decoded once more with those left raw, for orjson and the domain's depth check, as on the
per-event path.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

import msgspec
import orjson

from domain.enrichment import MAX_CONTEXT, Client, context_client
from domain.time import micros
from domain.tracked_event import (
    CANONICAL_UUID,
    MAX_ACTOR,
    MAX_CATEGORY,
    MAX_FUTURE,
    MAX_NAME,
    MAX_PROPERTIES,
    MAX_SOURCE,
    TrackedEvent,
    check_properties,
    timestamp_micros,
)

MAX_BATCH = 1000


def _text(limit: int) -> object:
    return Annotated[str, msgspec.Meta(min_length=1, max_length=limit)]


# Only the length here: a msgspec `pattern` calls Python's re for every field, so `_canonical`
# checks the spelling of every id of a batch in one match instead.
Uuid = Annotated[str, msgspec.Meta(min_length=36, max_length=36)]
# Ids of exactly 36 characters, each followed by a newline: the whole text matches exactly when
# every id does (each 37-character block is one id and its newline).
CANONICAL_IDS = re.compile(f"(?:{CANONICAL_UUID.pattern}\n)*")
Category, Name, Actor, Source = (_text(MAX_CATEGORY), _text(MAX_NAME), _text(MAX_ACTOR),
                                 _text(MAX_SOURCE))


Scalar = str | Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)] | float | bool | None
FlatProperties = Annotated[dict[str, Scalar], msgspec.Meta(max_length=MAX_PROPERTIES)]
NULL = msgspec.Raw(b"null")


class WireContext(msgspec.Struct, gc=False):
    """Who the event is sent on behalf of (an SDK on a server, for a browser)."""

    ip: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    user_agent: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_CONTEXT)] | None = None


class WireEvent(msgspec.Struct, gc=False):
    """One event as an SDK sends it (seed 000), with flat properties. Untracked by the garbage
    collector (it holds no cycles): a thousand per request would otherwise feed its passes."""

    event_id: Uuid
    category: Category  # type: ignore[valid-type]
    name: Name  # type: ignore[valid-type]
    timestamp: Annotated[str, msgspec.Meta(min_length=10, max_length=40)]
    actor_id: Actor  # type: ignore[valid-type]
    source_app: Source | None = None  # type: ignore[valid-type]
    source_version: Source | None = None  # type: ignore[valid-type]
    properties: FlatProperties | None = None
    session_id: Uuid | None = None
    context: WireContext | None = None


class NestedWireEvent(WireEvent):
    """The same event, its properties left as raw JSON."""

    properties: msgspec.Raw = NULL  # type: ignore[assignment]


def _batch_of(event: type) -> msgspec.json.Decoder:
    return msgspec.json.Decoder(Annotated[list[event], msgspec.Meta(  # type: ignore[valid-type]
        min_length=1, max_length=MAX_BATCH)])


FLAT, NESTED = _batch_of(WireEvent), _batch_of(NestedWireEvent)


def _decode(body: bytes) -> list[WireEvent] | None:
    for decoder in (FLAT, NESTED):
        try:
            return decoder.decode(body)  # type: ignore[no-any-return]
        except msgspec.ValidationError:
            continue  # not flat, perhaps: try nested properties
        except (msgspec.DecodeError, RecursionError):
            return None
    return None


def _canonical(wire: list[WireEvent]) -> bool:
    """Every event_id and session_id of the batch is spelled as CANONICAL_UUID is."""
    ids = [each.event_id for each in wire]
    ids += [each.session_id for each in wire if each.session_id is not None]
    return CANONICAL_IDS.fullmatch("\n".join(ids) + "\n") is not None


def valid_batch(body: bytes, now: datetime,
                contexts: dict[str, Client] | None = None) -> list[TrackedEvent] | None:
    """Every event of `body` if the body is a batch of valid events, else None. The clients the
    events' contexts name go into `contexts`, by event id."""
    wire = _decode(body)
    if wire is None:
        return None
    if not _canonical(wire):
        return None
    latest = micros(now + MAX_FUTURE)
    problems: list[dict[str, str]] = []
    events = []
    for each in wire:
        timestamp = timestamp_micros(each.timestamp)  # parse_timestamp's answer, as micros
        if timestamp is None or timestamp > latest:
            return None
        properties = each.properties
        if isinstance(properties, msgspec.Raw):
            try:
                properties = check_properties(orjson.loads(memoryview(properties)), problems)
            except orjson.JSONDecodeError:  # nested past orjson's limit: the slow path says so
                return None
            if problems:
                return None
        if each.context is not None and contexts is not None:
            client = context_client({"context": msgspec.structs.asdict(each.context)})
            if client is not None:
                contexts[each.event_id.lower()] = client
        events.append(TrackedEvent(
            each.event_id.lower(), each.category, each.name, timestamp, each.actor_id,
            each.source_app, each.source_version, properties,
            None if each.session_id is None else each.session_id.lower()))
    return events
