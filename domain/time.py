"""Time as Beacon stores it: integer microseconds since the epoch, UTC. Exact, sortable, portable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NAIVE_EPOCH = EPOCH.replace(tzinfo=None)


def micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@overload
def from_micros(value: int) -> datetime: ...
@overload
def from_micros(value: int | None) -> datetime | None: ...
def from_micros(value: int | None) -> datetime | None:
    if value is None:
        return None
    seconds, us = divmod(value, 1_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=us)


MIN_US, MAX_US = micros(datetime.min), micros(datetime.max)  # what a UTC datetime can hold


WIRE_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # e.g. 2026-04-04T14:32:00.000000Z


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with microseconds and a Z, as everywhere on Beacon's wire."""
    return moment.astimezone(UTC).strftime(WIRE_FORMAT) if moment else None


def from_iso(text: str) -> datetime:
    """The moment `iso` wrote; ValueError for any other spelling."""
    return datetime.strptime(text, WIRE_FORMAT).replace(tzinfo=UTC)
