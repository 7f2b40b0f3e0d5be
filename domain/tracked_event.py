"""A tracked product event as the SDK contract (seed 000) defines it, and the rules it must meet."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.time import EPOCH, MAX_US, MIN_US, NAIVE_EPOCH, micros

MAX_CATEGORY, MAX_NAME, MAX_ACTOR, MAX_SOURCE = 128, 256, 512, 256
MAX_PROPERTIES, MAX_DEPTH = 100, 5
MAX_FUTURE = timedelta(hours=24)
CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass
class TrackedEvent:
    """One valid event, normalised: its time as integer microseconds (UTC), ids as strings.

    Its fields are the record stored inside a batch, in order, so a batch serialises straight from
    these objects. Treat it as immutable: it is not frozen only because a frozen dataclass costs
    several times as much to build, and ingestion builds a thousand per request. Nor has it slots:
    a batch is serialised from the events' `__dict__`s (application/admission.py `encode`).
    """

    event_id: str
    category: str
    name: str
    timestamp_us: int
    actor_id: str | None  # None until the request names its visitor (domain/enrichment.py)
    source_app: str | None = None
    source_version: str | None = None
    properties: dict[str, Any] | None = None
    session_id: str | None = None

    @property
    def timestamp(self) -> datetime:
        return EPOCH + timedelta(microseconds=self.timestamp_us)


def parse_timestamp(value: object) -> datetime | None:
    """ISO 8601; no offset means UTC. None when it is not a timestamp (or, with its offset, falls
    outside the years 1-9999 in UTC)."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def timestamp_micros(value: str) -> int | None:
    """`micros(parse_timestamp(value))` for a string of 10-40 characters, or None where that is
    None; the hot path's spelling: no conversion to a UTC datetime, only offset arithmetic."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    delta = moment - (NAIVE_EPOCH if moment.tzinfo is None else EPOCH)
    us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return us if MIN_US <= us <= MAX_US else None


def depth_of(value: Any, limit: int = MAX_DEPTH + 1) -> int:
    """How deeply objects and arrays nest (a flat object is 1); stops counting past `limit`."""
    if isinstance(value, dict):
        children: Any = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return 0
    nested = [child for child in children if isinstance(child, (dict, list))]
    if not nested:  # the common case: a flat object of scalars
        return 1
    if limit <= 1:
        return 2
    return 1 + max(depth_of(child, limit - 1) for child in nested)


def _text(raw: dict[str, Any], field: str, limit: int, errors: list[dict[str, str]],
          required: bool = True) -> str | None:
    value = raw.get(field)
    if value is None:
        if required:
            errors.append({"field": field, "message": "is required"})
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        errors.append({"field": field, "message": f"must be a string of 1-{limit} characters"})
        return None
    return value


def _uuid(raw: dict[str, Any], field: str, errors: list[dict[str, str]], required: bool) -> str | None:
    value = raw.get(field)
    if value is None:
        if required:
            errors.append({"field": field, "message": "is required"})
        return None
    if isinstance(value, str) and CANONICAL_UUID.fullmatch(value):
        return value.lower()  # the usual spelling, without the cost of parsing it
    try:
        if isinstance(value, str):
            return str(uuid.UUID(value))
    except ValueError:
        pass
    errors.append({"field": field, "message": "must be a UUID"})
    return None


def check_properties(value: Any, errors: list[dict[str, str]]) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.append({"field": "properties", "message": "must be an object"})
    elif len(value) > MAX_PROPERTIES:
        errors.append({"field": "properties", "message": f"at most {MAX_PROPERTIES} keys"})
    elif depth_of(value) > MAX_DEPTH:
        errors.append({"field": "properties", "message": f"nests deeper than {MAX_DEPTH} levels"})
    else:
        return value
    return None


def check_event(raw: object, now: datetime, *, event_id: str | None = None,
                session_is_uuid: bool = True,
                anonymous: bool = False) -> TrackedEvent | list[dict[str, str]]:
    """A valid TrackedEvent, or the list of what is wrong with `raw`.

    `event_id` supplies a server-made id where the dialect makes it optional. `anonymous` lets an
    event leave `actor_id` out (seed 002's dialect: the request's visitor is its actor); seed 000
    requires it.
    """
    if not isinstance(raw, dict):
        return [{"field": "", "message": "an event must be a JSON object"}]
    errors: list[dict[str, str]] = []
    if event_id is None or raw.get("event_id") is not None:
        event_id = _uuid(raw, "event_id", errors, required=True)
    category = _text(raw, "category", MAX_CATEGORY, errors)
    name = _text(raw, "name", MAX_NAME, errors)
    actor_id = _text(raw, "actor_id", MAX_ACTOR, errors, required=not anonymous)
    source_app = _text(raw, "source_app", MAX_SOURCE, errors, required=False)
    source_version = _text(raw, "source_version", MAX_SOURCE, errors, required=False)
    session_id = (_uuid(raw, "session_id", errors, required=False) if session_is_uuid
                  else _text(raw, "session_id", MAX_SOURCE, errors, required=False))
    properties = check_properties(raw.get("properties"), errors)
    timestamp = parse_timestamp(raw.get("timestamp"))
    if timestamp is None:
        errors.append({"field": "timestamp", "message": "must be an ISO 8601 datetime"})
    elif timestamp - now > MAX_FUTURE:
        errors.append({"field": "timestamp", "message": "is more than 24 hours in the future"})
    if errors:
        return errors
    return TrackedEvent(event_id=event_id, category=category, name=name,  # type: ignore[arg-type]
                        timestamp_us=micros(timestamp), actor_id=actor_id,  # type: ignore[arg-type]
                        source_app=source_app, source_version=source_version,
                        properties=properties, session_id=session_id)
