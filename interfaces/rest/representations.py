"""How resources look on the wire: `{"data": …}` envelopes, ISO 8601 UTC timestamps, cursors."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol, TypeVar
from uuid import UUID

from fastapi import Header, Request, Response
from starlette.concurrency import run_in_threadpool

from application.base import LAST_POSITION
from application.workspaces import Principal
from domain.errors import ValidationError
from domain.numerals import is_numeral
from domain.time import from_iso, from_micros, micros
from domain.time import iso as iso  # the one formatter, as the routes import it
from interfaces.rest.errors import BadRequest

T = TypeVar("T")
MAX_VERSION = 2**63 - 1  # a version both databases hold (a larger one in a cursor: 400, not 500)


def public_base(request: Request, public_url: str) -> str:
    """Where people reach Beacon, without a trailing slash: `BEACON_PUBLIC_URL` when set (behind
    a proxy the request's own address may be an inner one), else the request's."""
    return public_url or str(request.base_url).rstrip("/")
def utc_moment(field: str, moment: datetime | None) -> datetime | None:
    """A moment a request names, in UTC: one without a UTC offset is ambiguous (400), one that
    is no moment in UTC (9999-12-31T23:00:00-12:00 is past the last one a datetime holds) 422."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise BadRequest(f"{field} needs a UTC offset, e.g. 2026-04-04T14:32:00Z",
                         details=[{"field": field, "message": "timezone required"}])
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValidationError(f"{field} is out of range (years 1-9999 in UTC)", details=[
            {"field": field, "message": "out of range"}]) from None


IfMatch = Annotated[str | None, Header(alias="If-Match")]


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


Write = TypeVar("Write", bound=Versioned | tuple[Versioned, Any])


def encode_cursor(created_at_us: int, item_id: str) -> str:
    """A URL-safe base64 cursor of a microsecond timestamp and an id (seed 002)."""
    raw = f"{iso(from_micros(created_at_us))}|{item_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, item_id = raw.split("|", 1)
        return micros(from_iso(stamp)), item_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("cursor is not one this API issued",
                         details=[{"field": "cursor", "message": "invalid"}]) from None


def encode_version(version: int) -> str:
    """A cursor of an aggregate's version (an entry of its history, a monitor's flip)."""
    return base64.urlsafe_b64encode(f"v{version}".encode()).decode().rstrip("=")


def decode_version(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if raw[:1] == "v" and is_numeral(raw[1:]) and int(raw[1:]) <= MAX_VERSION:
            return int(raw[1:])
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise BadRequest("cursor is not one this API issued",
                     details=[{"field": "cursor", "message": "invalid"}])


def listing(rows: list[dict[str, Any]], limit: int, shape: Any, cursor_of: Any) -> dict:
    """`{data, has_more, next_cursor}` from a query asked for one row more than the page."""
    body: dict[str, Any] = {"data": [shape(r) for r in rows[:limit]],
                            "has_more": len(rows) > limit}
    if len(rows) > limit:
        body["next_cursor"] = cursor_of(rows[limit - 1])
    return body


def envelope(data: Any) -> dict[str, Any]:
    return {"data": data}


def mark_position(response: Response) -> None:
    """Tell the caller where its write landed, for X-Beacon-Min-Position on later reads."""
    position = LAST_POSITION.get()
    if position is not None:
        response.headers["X-Beacon-Position"] = f"{position[0]}:{position[1]}"


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    """The version an If-Match header names; None when absent or `*`."""
    if value is None or value.strip() == "*":
        return None
    text = value.strip().removeprefix("W/").strip('"')
    # An ETag we never issued (Unicode digits such as "²" included) matches nothing: 412.
    return int(text) if is_numeral(text) else -1


def written(response: Response, aggregate: Versioned) -> None:
    """The ETag of the version a write left, and where it landed."""
    response.headers["ETag"] = etag(aggregate.version)
    mark_position(response)


def write_if_match(response: Response, command: Callable[..., Write], who: Principal,
                   aggregate_id: UUID, if_match: str | None, **fields: Any) -> Write:
    """Run a write on one aggregate only if it is still at the version If-Match names (412 when it
    is not), and mark the response with what the write left. A command answering (aggregate, part),
    like a posted update, is marked by its aggregate."""
    result = command(who.workspace_id, aggregate_id, actor=who.actor,
                     expected_version=parse_if_match(if_match), **fields)
    written(response, result[0] if isinstance(result, tuple) else result)
    return result


async def in_thread(command: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking command off the event loop, keeping the log position it saved at."""

    def call() -> tuple[T, tuple[str, int] | None]:
        return command(*args, **kwargs), LAST_POSITION.get()

    result, position = await run_in_threadpool(call)
    if position is not None:
        LAST_POSITION.set(position)
    return result
