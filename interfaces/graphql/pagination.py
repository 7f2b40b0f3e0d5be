"""Cursor pagination shared by connections: page sizes, and the same cursors as the REST API."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

import strawberry

from interfaces.rest.errors import BadRequest
from interfaces.rest.representations import decode_cursor, encode_cursor
from projections.model import micros

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000


@strawberry.type(description="Where a page of a connection ends.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next page; null when the page is empty.")


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise BadRequest(f"first must be between 1 and {MAX_PAGE_SIZE}, got {first}")
    return first


def cursor_of(created_at: datetime, item_id: str) -> str:
    return encode_cursor(micros(created_at), item_id)


def position_after(after: str | None) -> tuple[int, str] | None:
    """The (created_at µs, id) a cursor points at; a cursor we never issued is an error."""
    if after is None:
        return None
    try:
        return decode_cursor(after)
    except BadRequest:
        raise BadRequest("after is not a cursor this API issued") from None


def key_cursor(rank: int, key: str) -> str:
    """A cursor over a (number, key) ordering, e.g. exception groups by count."""
    return base64.urlsafe_b64encode(f"{rank}|{key}".encode()).decode().rstrip("=")


def key_after(after: str | None) -> tuple[int, str] | None:
    if after is None:
        return None
    try:
        rank, key = base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)).decode().split("|", 1)
        return int(rank), key
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("after is not a cursor this API issued") from None
