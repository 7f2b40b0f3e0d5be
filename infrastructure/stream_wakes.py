"""What wakes a live stream's reader when the Telemetry log grows (DESIGN.md decision 13).

Only ever a wake-up, never the events: the reader then reads the log by position. With
`BEACON_REDIS_URL`, the API process that accepted a write publishes on a Redis channel every API
process listens on; without Redis, PostgreSQL's own NOTIFY on each insert does the same across
processes (infrastructure/projection_runner.py LogListener); on SQLite the writing process rings
its own reader. A lost wake-up costs the reader's re-check interval, never a message.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import redis

from infrastructure.projection_runner import LogListener, Wakeable

log = logging.getLogger("beacon.stream")


def written_channel(schema: str) -> str:
    """One channel per schema, so Beacons sharing a Redis never wake each other."""
    return f"beacon:{schema}:telemetry-written"


class RedisDoorbell:
    """Tells every API process (through Redis) that the Telemetry log has grown."""

    def __init__(self, url: str, schema: str):
        self._client = redis.Redis.from_url(url)
        self._channel = written_channel(schema)

    def ring(self) -> None:
        try:
            self._client.publish(self._channel, b"1")
        except redis.RedisError as error:  # the re-check still finds the write
            log.warning("could not publish a stream wake-up (%s)", error)

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
