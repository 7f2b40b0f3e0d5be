"""One subscriber's live feed, whatever carries it (SSE or a GraphQL subscription): the history
since the position it resumes from, then live messages, with keep-alives, and an end when it falls
behind (overflow) or its key is revoked."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from uuid import UUID

from starlette.concurrency import run_in_threadpool

from application.stream import Message, StreamFilter, StreamPosition
from infrastructure.stream_seats import Seat
from interfaces.bootstrap import Beacon
from interfaces.rest.errors import BadRequest, RateLimited


@dataclass(frozen=True)
class Ended:
    """Why a feed stopped: "overflow" or "revoked"; resume after `last`."""

    reason: str
    last: str


@dataclass(frozen=True)
class Joined:
    """Subscribed: nothing accepted from here on is missed; the feed starts after `at`."""

    at: str


KEEP_ALIVE = "keep-alive"
Delivery = list[Message] | str | Joined | Ended  # messages, KEEP_ALIVE, the start or the end


# Each message is matched against every open stream's filter, by the process that holds it: a
# filter is a handful of terms, not thousands (the URL would otherwise be its only bound).
MAX_EVENT_NAMES, MAX_PROPERTY_FILTERS = 50, 20


def check_filter(beacon: Beacon, wanted: StreamFilter) -> None:
    """400 for a filter with more terms than MAX_EVENT_NAMES or MAX_PROPERTY_FILTERS, or on an
    enriched dimension where messages carry none (BEACON_ENRICHMENT=0): it could never match."""
    for field, count, most in (("event", len(wanted.events), MAX_EVENT_NAMES),
                               ("property", len(wanted.properties), MAX_PROPERTY_FILTERS)):
        if count > most:
            raise BadRequest(f"a stream filters by at most {most} {field} terms, not {count}",
                             details=[{"field": field, "message": f"at most {most}"}])
    if wanted.dimensions and not beacon.settings.enrichment:
        raise BadRequest("this Beacon streams events without enrichment (BEACON_ENRICHMENT=0): "
                         "it cannot filter by " + ", ".join(wanted.dimensions),
                         details=[{"field": d, "message": "not enriched"} for d in wanted.dimensions])


async def seat_for(beacon: Beacon, workspace_id: UUID) -> Seat:
    """A seat for one more open stream of the workspace; 429 when it holds as many as
    `BEACON_STREAM_MAX_PER_WORKSPACE` (every API process's, with Redis)."""
    seat = await run_in_threadpool(beacon.stream_seats.take, workspace_id)
    if seat is None:
        limit = beacon.stream_seats.limit
        raise RateLimited(
            f"this workspace has {limit} live streams open, the most this Beacon allows "
            "(BEACON_STREAM_MAX_PER_WORKSPACE); close one, or retry later",
            details=[{"field": "stream", "message": f"at most {limit} open per workspace"}],
            headers={"Retry-After": str(max(1, round(beacon.settings.stream_key_check_seconds)))})
    return seat


async def check_resumable(beacon: Beacon, after: StreamPosition | None, field: str) -> None:
    """A position to resume after is one a stream could have sent: not past the log's head (a
    stream told to start there would skip, unseen, everything accepted up to it)."""
    if after is None:
        return
    head = await run_in_threadpool(beacon.stream.head)
    if after.notification > head:
        raise BadRequest(f"{field} {after} is past the newest message (log position {head}): "
                         "resume after an id this stream sent",
                         details=[{"field": field, "message": "past the newest message"}])


async def feed(beacon: Beacon, still_allowed: Callable[[], bool], workspace_id: UUID,
               wanted: StreamFilter, after: StreamPosition | None,
               seat: Seat) -> AsyncIterator[Delivery]:
    """Everything after `after` (or from now: after the log's head), in log order, each message
    once; it ends when `still_allowed` (blocking, asked every few seconds) says the caller may no
    longer read. It keeps `seat` (`seat_for`) while it runs and gives it back when it ends."""
    settings, stream = beacon.settings, beacon.stream

    async def allowed() -> bool:  # asked every stream_key_check_seconds: the seat is kept then
        await run_in_threadpool(seat.renew)
        return await run_in_threadpool(still_allowed)

    try:
        if after is None:  # from now on: what is accepted after this moment, however late enriched
            after = StreamPosition(await run_in_threadpool(stream.head))
        sub = stream.subscribe(workspace_id, wanted, after)
    except BaseException:
        seat.release()
        raise
    last = str(after)
    try:
        while not await sub.joined(min(settings.stream_keepalive_seconds,  # through Redis: a
                                       settings.stream_key_check_seconds)):  # moment, unless down
            if not await allowed():
                stream.ended["revoked"] += 1
                yield Ended("revoked", last)
                return
            yield KEEP_ALIVE
        assert sub.caught_up_to is not None
        yield Joined(last)
        start, check_at = after.notification, time.monotonic()
        while start <= sub.caught_up_to:
            found, start = await run_in_threadpool(stream.history, sub, start)
            if found:
                last = str(found[-1].position)
                yield found
            if time.monotonic() >= check_at + settings.stream_key_check_seconds:
                check_at = time.monotonic()
                await run_in_threadpool(seat.renew)  # a long history keeps its seat too
        quiet_since = check_at = time.monotonic()
        while True:
            now = time.monotonic()
            wait = min(quiet_since + settings.stream_keepalive_seconds,
                       check_at + settings.stream_key_check_seconds) - now
            messages = await sub.take(max(wait, 0.0))
            if messages:
                last = str(messages[-1].position)
                quiet_since = time.monotonic()
                yield messages
            if sub.overflowed:
                stream.ended["overflow"] += 1
                yield Ended("overflow", last)
                return
            now = time.monotonic()
            if now >= check_at + settings.stream_key_check_seconds:
                check_at = now
                if not await allowed():
                    stream.ended["revoked"] += 1
                    yield Ended("revoked", last)
                    return
            if now >= quiet_since + settings.stream_keepalive_seconds:
                quiet_since = now
                yield KEEP_ALIVE
    finally:
        stream.unsubscribe(sub)
        seat.release()
