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
from interfaces.bootstrap import Beacon
from interfaces.rest.errors import BadRequest


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


def check_enriched(beacon: Beacon, wanted: StreamFilter) -> None:
    """400 for a filter on an enriched dimension where messages carry none (BEACON_ENRICHMENT=0):
    it could never match."""
    if wanted.dimensions and not beacon.settings.enrichment:
        raise BadRequest("this Beacon streams events without enrichment (BEACON_ENRICHMENT=0): "
                         "it cannot filter by " + ", ".join(wanted.dimensions),
                         details=[{"field": d, "message": "not enriched"} for d in wanted.dimensions])


async def feed(beacon: Beacon, still_allowed: Callable[[], bool], workspace_id: UUID,
               wanted: StreamFilter, after: StreamPosition | None) -> AsyncIterator[Delivery]:
    """Everything after `after` (or from now: after the log's head), in log order, each message
    once; it ends when `still_allowed` (blocking, asked every few seconds) says the caller may no
    longer read."""
    settings, stream = beacon.settings, beacon.stream
    if after is None:  # from now on: what is accepted after this moment, however late enriched
        after = StreamPosition(await run_in_threadpool(stream.head))
    sub = stream.subscribe(workspace_id, wanted, after)
    last = str(after)
    try:
        while not await sub.joined(min(settings.stream_keepalive_seconds,  # through Redis: a
                                       settings.stream_key_check_seconds)):  # moment, unless down
            if not await run_in_threadpool(still_allowed):
                yield Ended("revoked", last)
                return
            yield KEEP_ALIVE
        assert sub.caught_up_to is not None
        yield Joined(last)
        start = after.notification
        while start <= sub.caught_up_to:
            found, start = await run_in_threadpool(stream.history, sub, start)
            if found:
                last = str(found[-1].position)
                yield found
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
                yield Ended("overflow", last)
                return
            now = time.monotonic()
            if now >= check_at + settings.stream_key_check_seconds:
                check_at = now
                if not await run_in_threadpool(still_allowed):
                    yield Ended("revoked", last)
                    return
            if now >= quiet_since + settings.stream_keepalive_seconds:
                quiet_since = now
                yield KEEP_ALIVE
    finally:
        stream.unsubscribe(sub)
