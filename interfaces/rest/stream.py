"""GET /api/v1/events/stream: accepted events and exception reports as Server-Sent Events.

Each message's `id` is its log position `<notification>.<index>` (application/stream.py), so a
client reconnecting with `Last-Event-ID` resumes with no gap and no repeat. Filters are query
parameters: `event` (repeatable: any of these names; `$exception` for exception reports),
`actor_id`, and `property.<key>=<value>` (equality; every one must hold). An enriched dimension
filters as `property.$country=DE` or `$country=DE` (the event's recorded enrichment, as in
analytics). Messages carry the event's `content_hash`, `visitor_id` (anonymous events) and the
dimensions once the enrichment pipeline has recorded them (docs/decisions/live-stream.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from application.stream import StreamFilter, StreamPosition
from domain.enrichment import DIMENSIONS
from interfaces.live_feed import Delivery, Ended, Joined, check_filter, check_resumable, feed, seat_for
from interfaces.rest.deps import BeaconDep, Reader, still_signed_in
from interfaces.rest.errors import BadRequest

router = APIRouter(tags=["stream"])
PROPERTY = "property."


def stream_filter(request: Request) -> StreamFilter:
    """The filter the query string asks for (400 for a parameter the stream does not know)."""
    events: set[str] = set()
    actor_id: str | None = None
    properties: dict[str, str] = {}
    unknown = []
    twice = []
    for name, value in request.query_params.multi_items():
        if name == "event":  # any of several names
            events.add(value)
        elif name == "actor_id":
            if actor_id is not None and actor_id != value:
                twice.append({"field": name, "message": "given twice, differently"})
            actor_id = value
        elif (name.startswith(PROPERTY) and len(name) > len(PROPERTY)) or name in DIMENSIONS:
            key = name[len(PROPERTY):] if name.startswith(PROPERTY) else name  # `$country=DE`:
            if properties.get(key, value) != value:  # a dimension, as analytics names it
                twice.append({"field": name, "message": "given twice, differently"})
            properties[key] = value
        elif name != "last_event_id":
            unknown.append({"field": name, "message": "is not a stream filter"})
    if unknown:
        raise BadRequest("filter by event, actor_id, property.<key> or an enriched dimension "
                         "($country, $region, $city, $browser, $os, $device_type)", details=unknown)
    if twice:  # every term must hold: two values of one could never both
        raise BadRequest("a stream filter names one value per actor_id and property",
                         details=twice)
    return StreamFilter(frozenset(events), actor_id, properties)


def resume_position(request: Request) -> StreamPosition | None:
    """Where to resume: the `Last-Event-ID` header (or `last_event_id`, for clients that cannot
    set headers); none means from now on."""
    text = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    if not text:
        return None
    position = StreamPosition.parse(text)
    if position is None:
        raise BadRequest("Last-Event-ID must be an id this stream sent, like 1042.7",
                         details=[{"field": "Last-Event-ID", "message": "invalid"}])
    return position


def frame(delivery: Delivery) -> bytes:
    """One or more SSE frames for what the feed delivered."""
    if isinstance(delivery, str):  # KEEP_ALIVE
        return b": keep-alive\n\n"
    if isinstance(delivery, Joined):  # a first byte as soon as the subscription holds
        return b": subscribed after " + delivery.at.encode() + b"\n\n"
    if isinstance(delivery, Ended):
        data = orjson.dumps({"reason": delivery.reason, "last_event_id": delivery.last})
        return b"event: " + delivery.reason.encode() + b"\ndata: " + data + b"\n\n"
    return b"".join(b"id: %s\nevent: %s\ndata: %s\n\n"
                    % (str(m.position).encode(), m.kind.encode(), m.data) for m in delivery)


@router.get("/api/v1/events/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def event_stream(request: Request, beacon: BeaconDep, who: Reader) -> StreamingResponse:
    """Events and exception reports as they are accepted (Server-Sent Events)."""
    wanted, after = stream_filter(request), resume_position(request)
    check_filter(beacon, wanted)
    await check_resumable(beacon, after, "Last-Event-ID")
    seat = await seat_for(beacon, who.workspace_id)

    async def frames() -> AsyncIterator[bytes]:
        async for delivery in feed(beacon, lambda: still_signed_in(request, beacon),
                                   who.workspace_id, wanted, after, seat):
            yield frame(delivery)

    return StreamingResponse(frames(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


class TelemetryDoorbell:
    """Rings the live streams when a response says it wrote to the Telemetry log
    (`X-Beacon-Position: Telemetry:<n>`, which every ingest endpoint sends)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return

        async def watching_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.start" and any(
                    name == b"x-beacon-position" and value.startswith(b"Telemetry:")
                    for name, value in message.get("headers", ())):
                scope["app"].state.beacon.telemetry_written()

        await self.app(scope, receive, watching_send)
