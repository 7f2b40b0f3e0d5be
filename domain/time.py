"""Time as Beacon stores it: integer microseconds since the epoch, UTC. Exact, sortable, portable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
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


def start_of(moment_us: int, unit_us: int) -> int:
    """The start (µs) of the UTC second, minute or hour (`unit_us` long) that holds `moment_us`,
    floored before 1970 too: Python's `%` takes the divisor's sign."""
    return moment_us - moment_us % unit_us


def whole_units(start: int, end: int, unit_us: int) -> tuple[int, int]:
    """`[start, end)` (µs) narrowed to whole `unit_us`s: start rounded up, end down (floored
    before 1970 too); empty (first >= last) when no whole unit fits."""
    return start - start % -unit_us, end - end % unit_us


def iso_of_micros(us: int) -> str:
    """A time in microseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC; as `iso`
    spells it, years always in four digits), without a datetime or strftime (3.7 µs each): the
    live stream formats every event it sends, and the content hash's canonical form every event
    it hashes."""
    seconds, fraction = divmod(us, 1_000_000)
    return f"{_second(seconds)}.{fraction:06d}Z"


@lru_cache(maxsize=65_536)  # a batch's events mostly share a few seconds
def _second(seconds: int) -> str:
    """`YYYY-MM-DDTHH:MM:SS` (UTC) of a second since the epoch: the date from a cache of days,
    the time of day by arithmetic (events spread over days, as a backfill sends them, missed the
    seconds' cache; formatting a datetime for each cost twice as much)."""
    day, of_day = divmod(seconds, 86_400)
    hours, rest = divmod(of_day, 3600)
    minutes, second = divmod(rest, 60)
    return f"{_date(day)}T{hours:02d}:{minutes:02d}:{second:02d}"


@lru_cache(maxsize=4096)
def _date(day: int) -> str:
    return (EPOCH + timedelta(days=day)).isoformat()[:10]
