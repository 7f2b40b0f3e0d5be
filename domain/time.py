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


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with microseconds and a Z, as everywhere on Beacon's wire:
    2026-04-04T14:32:00.000000Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment else None
