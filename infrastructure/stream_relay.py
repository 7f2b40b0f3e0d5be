"""The enriched live stream through Redis: what the enrichment pipeline publishes once it has
recorded a page, and how it is written (docs/decisions/live-stream.md, "Through Redis").

The process that runs the pipeline (`beacon projector` in the production shape) has just decoded
each source and derived its enrichment, so it makes each message once there and publishes it,
already encoded, to the workspace's channel; API processes forward the bytes to their subscribers
(infrastructure/stream_forwarder.py). It publishes only to channels someone is subscribed to (one
PUBSUB NUMSUB a page): with nobody streaming, the pipeline makes no message at all.

Each page is `start end`, then the messages' `[notification, index, kind, name, actor_id]` in one
JSON array (what a forwarder filters by, read without reading the bodies), then one line per
message's body as JSON (orjson escapes newlines inside strings). After
the workspaces' pages, a progress message on the namespace's channel names the page and the
workspaces it was published to, so an API process can tell a page it missed from one that had
nothing for it.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple, cast
from uuid import UUID

import orjson
import redis

from application.enrichment import Derivation, EnrichedPage
from application.stream import Message, StreamPosition, messages_of, shape
from domain.batch import EventBatch
from domain.time import iso
from infrastructure.tellers import BackOff

log = logging.getLogger("beacon.stream")


def progress_channel(namespace: str) -> str:
    """One channel per Beacon (its schema or data directory), so Beacons sharing a Redis never
    hear each other."""
    return f"beacon:{namespace}:stream"


def workspace_channel(namespace: str, workspace_id: UUID) -> str:
    return f"beacon:{namespace}:stream:{workspace_id}"


class Progress(NamedTuple):
    """The pipeline's place moved from `start` to `end`; `published` got their messages."""

    start: int
    end: int
    published: frozenset[UUID]

    def encode(self) -> bytes:
        return orjson.dumps({"start": self.start, "end": self.end,
                             "published": [str(w) for w in self.published]})

    @classmethod
    def decode(cls, data: bytes) -> Progress:
        body = orjson.loads(data)
        return cls(body["start"], body["end"], frozenset(UUID(w) for w in body["published"]))


def encode_page(start: int, end: int, messages: list[Message]) -> bytes:
    """A workspace's page, from its messages."""
    return encoded(start, end, [(m.position.notification, m.position.item, m.kind, m.name,
                                 m.actor_id) for m in messages],
                   b"".join(b"\n" + m.data for m in messages))


def encoded(start: int, end: int, heads: list[tuple[int, int, str, str, str | None]],
            bodies: bytes | bytearray) -> bytes:
    """`start end`, then every message's `[notification, index, kind, name, actor_id]` in one
    JSON array, then `bodies`: each message's body on a line of its own, after a newline
    (orjson escapes newlines inside strings)."""
    return b"".join((b"%d %d\n" % (start, end), orjson.dumps(heads), bodies))


def decode_page(workspace_id: UUID, data: bytes) -> tuple[int, int, list[Message]]:
    """A workspace's page: its range and its messages, their bodies left as JSON."""
    head, heads, *bodies = data.split(b"\n")
    start, end = (int(part) for part in head.split())
    return start, end, [
        Message.encoded(workspace_id, StreamPosition(notification, item), kind, name, actor_id,
                        body)
        for (notification, item, kind, name, actor_id), body in zip(
            orjson.loads(heads), bodies, strict=True)]


def page_of(start: int, end: int, sources: list[tuple[int, Any, Derivation]]) -> bytes:
    """A workspace's page from its enriched sources `(position, source, derivation)`, as
    `encoded` writes it."""
    heads: list[tuple[int, int, str, str, str | None]] = []
    bodies = bytearray()  # each body after a newline
    for position, source, derivation in sources:
        if isinstance(source, EventBatch.Accepted) and derivation.events is not None:
            batch_lines(position, source, derivation, heads, bodies)
            continue
        for m in messages_of(position, source, derivation.rows):
            heads.append((position, m.position.item, m.kind, m.name, m.actor_id))
            bodies += b"\n"
            bodies += m.data
    return encoded(start, end, heads, bodies)


def batch_lines(position: int, batch: Any, derivation: Derivation,
                heads: list[tuple[int, int, str, str, str | None]], bodies: bytearray) -> None:
    """A batch's messages' heads, and their bodies (each after a newline): the bytes
    `Message.data` would be, made from the events as the pipeline decoded them to hash them
    rather than decoding the batch again. Each body is copied into `bodies` as it is made: a
    page's thousands of small objects held at once each cost more to allocate than to encode
    (docs/performance.md)."""
    received = iso(batch.received_at)
    visitors = set((getattr(batch, "client", None) or {}).get("visitors", ()))
    events = cast(list[dict[str, Any]], derivation.events)
    for index, (event, record) in enumerate(zip(events, derivation.rows, strict=True)):
        actor_id = event.get("actor_id")
        heads.append((position, index, "event", event["name"], actor_id))
        visitor = actor_id if visitors and event["event_id"] in visitors else None
        bodies += b"\n"
        bodies += orjson.dumps(shape(dict(event), f"{position}.{index}", received, record, visitor))


class StreamPublisher:
    """Told of every enriched page by the pipeline (EnrichmentRunner's listener), it publishes
    the page's messages to the workspaces someone streams, then the progress."""

    def __init__(self, url: str, namespace: str):
        # Told on the pipeline's thread: a Redis that hangs must not hold the pipeline up.
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1)
        self.namespace = namespace
        self._progress = progress_channel(namespace)
        self._backoff = BackOff()  # after a failure, pages are not published for a while

    def __call__(self, start: int, end: int, page: EnrichedPage) -> None:
        if page.derived is None or self._backoff.waiting:
            # Another projector recorded some of it: what it recorded is in the log, not here;
            # or Redis failed a moment ago. Publishing nothing makes every API process find the
            # page missing and read it there.
            return
        by_workspace: dict[UUID, list[tuple[int, Any, Derivation]]] = {}
        for (position, source), derivation in zip(page.sources, page.derived, strict=True):
            by_workspace.setdefault(source.workspace_id, []).append((position, source, derivation))
        channels = {workspace_channel(self.namespace, w): w for w in by_workspace}
        try:
            counts = dict(self._client.pubsub_numsub(self._progress, *channels))
            listened = [w for channel, w in channels.items() if counts.get(channel.encode(), 0)]
            if not listened and not counts.get(self._progress.encode(), 0):
                return  # nobody streams: nothing to make
            publishing = self._client.pipeline(transaction=False)
            for workspace_id in listened:
                publishing.publish(workspace_channel(self.namespace, workspace_id),
                                   page_of(start, end, by_workspace[workspace_id]))
            publishing.publish(self._progress, Progress(start, end, frozenset(listened)).encode())
            publishing.execute()
        except redis.RedisError as error:  # the API processes find the page missing
            self._backoff.failed()
            log.warning("could not publish enriched page %d-%d to the live streams (%s); "
                        "trying again in %.0f s", start, end, error, self._backoff.seconds)

    def close(self) -> None:
        self._client.close()
