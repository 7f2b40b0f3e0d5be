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
from typing import Any, NamedTuple
from uuid import UUID

import msgspec
import orjson
import redis

from application.enrichment import EnrichedPage
from application.stream import Message, StreamPosition, messages_of, shape
from domain.batch import EventBatch
from domain.time import iso

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
                                 m.actor_id) for m in messages], [m.data for m in messages])


def encoded(start: int, end: int, heads: list[tuple[int, int, str, str, str | None]],
            bodies: list[bytes]) -> bytes:
    """`start end`, then every message's `[notification, index, kind, name, actor_id]` in one
    JSON array, then one line per message's body (orjson escapes newlines inside strings)."""
    return b"\n".join([b"%d %d" % (start, end), orjson.dumps(heads), *bodies])


def decode_page(workspace_id: UUID, data: bytes) -> tuple[int, int, list[Message]]:
    """A workspace's page: its range and its messages, their bodies left as JSON."""
    head, heads, *bodies = data.split(b"\n")
    start, end = (int(part) for part in head.split())
    return start, end, [
        Message.encoded(workspace_id, StreamPosition(notification, item), kind, name, actor_id,
                        body)
        for (notification, item, kind, name, actor_id), body in zip(
            orjson.loads(heads), bodies, strict=True)]


def page_of(start: int, end: int, sources: list[tuple[int, Any, str]]) -> bytes:
    """A workspace's page from its enriched sources `(position, source, records)`."""
    heads: list[tuple[int, int, str, str, str | None]] = []
    bodies: list[bytes] = []
    for position, source, records in sources:
        enrichment = orjson.loads(records)
        if isinstance(source, EventBatch.Accepted):
            batch_lines(position, source, enrichment, heads, bodies)
            continue
        for m in messages_of(position, source, enrichment):
            heads.append((position, m.position.item, m.kind, m.name, m.actor_id))
            bodies.append(m.data)
    return encoded(start, end, heads, bodies)


class _Head(msgspec.Struct):
    event_id: str
    name: str
    actor_id: str | None = None


_EVENTS = msgspec.json.Decoder(list[msgspec.Raw])
_HEAD = msgspec.json.Decoder(_Head)
_TIMESTAMP = b'"timestamp_us":'


def batch_lines(position: int, batch: Any, records: list[dict[str, Any]],
                heads: list[tuple[int, int, str, str, str | None]], bodies: list[bytes]) -> None:
    """A batch's messages' heads and bodies, the bodies the bytes `Message.data` would be, made
    without decoding and encoding each event: its stored JSON, written by orjson with
    `timestamp_us` fourth (domain/tracked_event.py), less that member, then what `shape` adds.
    Half the cost of going through dicts (docs/performance.md), in the process that makes every
    message; an event stored otherwise goes through them."""
    received = iso(batch.received_at)
    visitors = set((getattr(batch, "client", None) or {}).get("visitors", ()))
    for index, raw in enumerate(_EVENTS.decode(batch.events_json)):
        stored = bytes(raw)
        head = _HEAD.decode(stored)
        at = stored.find(_TIMESTAMP)
        after = stored.find(b",", at)
        enrichment = records[index] if records else None
        visitor = head.actor_id if visitors and head.event_id in visitors else None
        heads.append((position, index, "event", head.name, head.actor_id))
        if at < 0 or after < 0:
            body = shape(orjson.loads(stored), f"{position}.{index}", received, enrichment, visitor)
            bodies.append(orjson.dumps(body))
            continue
        added = shape({"timestamp_us": int(stored[at + len(_TIMESTAMP):after])},
                      f"{position}.{index}", received, enrichment, visitor)
        bodies.append(b"".join((stored[:at], stored[after + 1:-1], b",",
                                orjson.dumps(added)[1:])))


class StreamPublisher:
    """Told of every enriched page by the pipeline (EnrichmentRunner's listener), it publishes
    the page's messages to the workspaces someone streams, then the progress."""

    def __init__(self, url: str, namespace: str):
        self._client = redis.Redis.from_url(url)
        self.namespace = namespace
        self._progress = progress_channel(namespace)

    def __call__(self, start: int, end: int, page: EnrichedPage) -> None:
        if page.records is None:
            # Another projector recorded some of it: what it recorded is in the log, not here.
            # Publishing nothing makes every API process find the page missing and read it there.
            return
        by_workspace: dict[UUID, list[tuple[int, Any, str]]] = {}
        for (position, source), records in zip(page.sources, page.records, strict=True):
            by_workspace.setdefault(source.workspace_id, []).append((position, source, records))
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
            log.warning("could not publish enriched page %d-%d to the live streams (%s)",
                        start, end, error)

    def close(self) -> None:
        self._client.close()
