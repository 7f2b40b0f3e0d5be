"""DateTime on the wire as everywhere else in Beacon: ISO 8601 in UTC with microseconds and a Z."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.types.scalar import ScalarDefinition

from domain.time import iso

EXAMPLE = "2026-04-04T14:32:00Z"


def parse_datetime(value: object) -> datetime:
    """An ISO 8601 moment with a UTC offset; a naive one would be ambiguous."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise StrawberryInputCoercionError(
            f"DateTime must be ISO 8601, e.g. {EXAMPLE}; got {value!r}")
    if moment.tzinfo is None:
        raise StrawberryInputCoercionError(
            f"DateTime needs a UTC offset, e.g. {EXAMPLE}; got {value!r}")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00:00-12:00: past the last moment in UTC
        raise StrawberryInputCoercionError(
            f"DateTime out of range (years 1-9999 in UTC); got {value!r}") from None


DateTime: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description="ISO 8601 in UTC with microseconds, e.g. 2026-04-04T14:32:00.000000Z",
    serialize=iso,
    parse_value=parse_datetime,
)
