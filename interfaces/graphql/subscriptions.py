"""`subscription { events(filter) }`: the live event stream over the graphql-transport-ws protocol,
the same feed as GET /api/v1/events/stream (interfaces/live_feed.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import cast

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.types import Info

from application.stream import Message, StreamFilter, StreamPosition
from domain.enrichment import DIMENSIONS
from interfaces.graphql.context import GraphQLContext
from interfaces.live_feed import Ended, Joined, check_filter, check_resumable, feed, seat_for
from interfaces.rest.errors import ApiError, BadRequest


@strawberry.input
class PropertyEquals:
    key: str = strawberry.field(description="a property, or an enriched dimension: $country, …")
    value: str = strawberry.field(description="the property's JSON scalar as text: pro, 3, true")


@strawberry.input
class EventFilter:
    events: list[str] | None = strawberry.field(
        default=None, description="any of these names ($exception: exception reports)")
    actor_id: str | None = None
    properties: list[PropertyEquals] | None = strawberry.field(
        default=None, description="every one must hold")
    after: str | None = strawberry.field(
        default=None, description="resume after this position (the last one received)")


@strawberry.type
class LiveEvent:
    """One streamed event (kind `event`) or exception report (`exception`). The first item is of
    kind `subscribed` (nothing accepted from then on is missed); a last item of kind `overflow`
    or `revoked` ends the subscription. Either's position is the one to resume after. `body` is
    the event as the API shows it, with what the pipeline derived (`content_hash`, `visitor_id`,
    `$country`, …), also given as fields of their own."""

    position: str
    kind: str
    name: str | None
    actor_id: str | None
    body: JSON | None
    content_hash: str | None = strawberry.field(
        default=None, description="SHA-256 of the event's canonical form (null unenriched)")
    visitor_id: str | None = strawberry.field(
        default=None, description="the cookieless visitor id, for an event sent without actor")
    country: str | None = None
    region: str | None = None
    city: str | None = None
    browser: str | None = None
    os: str | None = None
    device_type: str | None = None


def live_event(message: Message) -> LiveEvent:
    body = message.body
    return LiveEvent(position=str(message.position), kind=message.kind, name=message.name,
                     actor_id=message.actor_id, body=cast(JSON, body),
                     content_hash=body.get("content_hash"), visitor_id=body.get("visitor_id"),
                     **{key: body.get(dimension) for dimension, key in DIMENSIONS.items()})


async def events(info: Info[GraphQLContext, None],
                 filter: EventFilter | None = None) -> AsyncGenerator[LiveEvent, None]:
    """Events and exception reports of the caller's workspace as they are accepted."""
    context, wanted = info.context, filter or EventFilter()
    beacon, token = context.beacon, context.token
    try:  # refused before the first item: an error with REST's code (no extension sees it here)
        after = StreamPosition.parse(wanted.after) if wanted.after else None
        if wanted.after and after is None:
            raise BadRequest("after must be a position this stream sent, like 1042.7")
        properties = {p.key: p.value for p in wanted.properties or ()}
        if any(properties[p.key] != p.value for p in wanted.properties or ()):
            raise BadRequest("properties name one value per key: two could never both hold")
        chosen = StreamFilter(frozenset(wanted.events or ()), wanted.actor_id, properties)
        check_filter(beacon, chosen)
        await check_resumable(beacon, after, "after")
        seat = await seat_for(beacon, context.workspace_id)
    except ApiError as error:
        raise GraphQLError(error.message, extensions={"code": error.code}) from error
    async for delivery in feed(beacon, lambda: beacon.workspaces.authenticate(token) is not None,
                               context.workspace_id, chosen, after, seat):
        if isinstance(delivery, (Joined, Ended)):
            position, kind = (delivery.at, "subscribed") if isinstance(delivery, Joined) else \
                (delivery.last, delivery.reason)
            yield LiveEvent(position=position, kind=kind, name=None, actor_id=None, body=None)
            if isinstance(delivery, Ended):
                return
        if isinstance(delivery, list):
            for message in delivery:
                yield live_event(message)


@strawberry.type
class Subscription:
    events: AsyncGenerator[LiveEvent, None] = strawberry.subscription(
        resolver=events, description=events.__doc__)
