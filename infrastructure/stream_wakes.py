"""What wakes a live stream that reads the log itself (infrastructure/stream_follower.py).

Only ever a wake-up, never the events: the follower then reads the log by position. A lost
wake-up costs the follower's re-check interval, never a message.

Messages as accepted (BEACON_ENRICHMENT=0): with `BEACON_REDIS_URL`, the API process that accepted
a write publishes on a Redis channel every API process listens on; without Redis, PostgreSQL's own
NOTIFY on each insert does the same across processes (infrastructure/projection_runner.py
LogListener); on SQLite the writing process rings its own follower.

Enriched messages without Redis: the enrichment pipeline, once it has moved its place, NOTIFYs a
channel of its own on PostgreSQL (`PageNotifier`) and rings the followers of its own process.
(With Redis, enriched messages come through it: infrastructure/stream_relay.py.)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import redis

from infrastructure.database import Database
from infrastructure.projection_runner import LogListener, Wakeable
from infrastructure.tellers import BackOff

log = logging.getLogger("beacon.stream")


def written_channel(schema: str) -> str:
    """One channel per schema, so Beacons sharing a Redis never wake each other."""
    return f"beacon:{schema}:telemetry-written"


class RedisDoorbell:
    """Tells every API process (through Redis) that the Telemetry log has grown."""

    def __init__(self, url: str, schema: str):
        # Rung on the event loop after an ingest response: a Redis that hangs must not hold it.
        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._channel = written_channel(schema)
        self._backoff = BackOff()  # after a failure, rings are skipped for a while

    def ring(self) -> None:
        if self._backoff.waiting:
            return  # Redis failed a moment ago: the streams' re-check finds the write
        try:
            self._client.publish(self._channel, b"1")
        except redis.RedisError as error:  # the re-check still finds the write
            self._backoff.failed()
            log.warning("could not publish a stream wake-up (%s); trying again in %.0f s",
                        error, self._backoff.seconds)

    def close(self) -> None:
        self._client.close()


class RedisWakeListener(threading.Thread):
    """Wakes `target` on every message of the schema's channel; reconnects when Redis drops."""

    def __init__(self, url: str, schema: str, target: Wakeable, stop: threading.Event):
        super().__init__(daemon=True, name="stream-redis-wake")
        self.url, self.channel, self.target, self.stop = url, written_channel(schema), target, stop

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                client = redis.Redis.from_url(self.url)
                with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    pubsub.subscribe(self.channel)
                    self.target.wake()  # anything written while we were not subscribed
                    while not self.stop.is_set():
                        if pubsub.get_message(timeout=1.0) is not None:
                            self.target.wake()
                client.close()
            except redis.RedisError as error:
                log.warning("stream wake-ups from Redis lost (%s); reconnecting", error)
                self.stop.wait(1.0)


def wake_sources(*, redis_url: str, database_url: str, channel: str, namespace: str
                 ) -> Callable[[Wakeable, threading.Event], list[threading.Thread]]:
    """What wakes a reader across processes: Redis when configured, else PostgreSQL's NOTIFY on
    the log's `channel`, else nothing (one process, woken by its own doorbell)."""

    def start(target: Wakeable, stop: threading.Event) -> list[threading.Thread]:
        if redis_url:
            thread: threading.Thread = RedisWakeListener(redis_url, namespace, target, stop)
        elif database_url:
            thread = LogListener(database_url, channel, [target], stop)
        else:
            return []
        thread.start()
        return [thread]

    return start


def enriched_channel(schema: str) -> str:
    """The PostgreSQL channel the pipeline NOTIFYs when it has moved its place (channels are
    per database, not per schema; identifiers stop at 63 bytes)."""
    return f"beacon_stream_{schema}"[:63]


class PageNotifier:
    """An EnrichmentRunner listener: NOTIFY the schema's enriched channel after each page."""

    def __init__(self, db: Database, schema: str):
        self.db, self.channel = db, enriched_channel(schema)

    def __call__(self, start: int, end: int, page: Any) -> None:
        with self.db.transaction() as cur:
            cur.execute("SELECT pg_notify(%s, '')", [self.channel])
