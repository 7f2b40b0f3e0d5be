"""How many live streams a workspace may hold open at once, across every API process.

Each open stream (SSE or GraphQL subscription) holds a seat: a lease that its feed renews while it
runs and gives back when it ends. A workspace whose seats are all taken is refused a new stream
(429), so one tenant's runaway client cannot hold an API process's connections, buffers and key
checks. With Redis the seats of a workspace are one sorted set (member: the stream, score: when
its lease lapses), taken atomically by a script; a process that dies without giving its seats back
loses them when their leases lapse. Without Redis they are counted in the process.
"""

from __future__ import annotations

import logging
import threading
import uuid
import weakref
from collections import Counter
from typing import Protocol
from uuid import UUID

import redis

log = logging.getLogger("beacon.stream")

# How long a seat outlives its stream's last renewal: what a dead process's streams hold.
LEASE_SECONDS = 60.0

# KEYS[1]: the workspace's seats. ARGV: the stream, the lease (ms), the most seats.
# Lapsed leases go first; the key lives as long as its newest lease.
TAKE = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""
RENEW = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""


class Seat(Protocol):
    def renew(self) -> None:
        """Blocking: the stream is still open (keeps its lease from lapsing)."""

    def release(self) -> None:
        """The stream ended (safe to call more than once)."""


class StreamSeats(Protocol):
    limit: int

    def take(self, workspace_id: UUID) -> Seat | None:
        """Blocking: a seat for a new stream of the workspace, or None when all are taken."""

    def close(self) -> None: ...


class LocalSeat:
    """Given back by `release`, or when it is dropped unreleased (a response whose stream never
    started): a count in the process has no lease to lapse."""

    def __init__(self, seats: LocalSeats, workspace_id: UUID):
        self.release = weakref.finalize(self, seats.give_back, workspace_id)

    def renew(self) -> None:
        pass


class LocalSeats:
    """The seats of this process (the embedded default: one process serves every stream)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.lock = threading.Lock()
        self.taken: Counter[UUID] = Counter()

    def take(self, workspace_id: UUID) -> LocalSeat | None:
        with self.lock:
            if self.taken[workspace_id] >= self.limit:
                return None
            self.taken[workspace_id] += 1
        return LocalSeat(self, workspace_id)

    def give_back(self, workspace_id: UUID) -> None:
        with self.lock:
            self.taken[workspace_id] -= 1
            if self.taken[workspace_id] <= 0:
                del self.taken[workspace_id]

    def close(self) -> None:
        pass


class RedisSeat:
    def __init__(self, seats: RedisSeats, key: str, member: str):
        self.seats, self.key, self.member, self.held = seats, key, member, True

    def renew(self) -> None:
        if not self.held:
            return
        try:
            self.seats.renew_script(keys=[self.key], args=[self.member, self.seats.lease_ms])
        except redis.RedisError as error:
            log.warning("cannot renew a stream's seat (%s)", error)

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        try:
            self.seats.redis.zrem(self.key, self.member)
        except redis.RedisError as error:
            log.warning("cannot give back a stream's seat (%s); its lease lapses", error)


class RedisSeats:
    """The seats of every API process of the deployment (`namespace`), through Redis."""

    def __init__(self, redis_url: str, namespace: str, limit: int, lease_seconds: float):
        self.limit, self.namespace = limit, namespace
        self.lease_ms = int(lease_seconds * 1000)
        self.redis = redis.Redis.from_url(redis_url, socket_timeout=1)
        self.take_script = self.redis.register_script(TAKE)
        self.renew_script = self.redis.register_script(RENEW)

    def take(self, workspace_id: UUID) -> RedisSeat | None:
        key, member = f"beacon:{self.namespace}:stream-seats:{workspace_id}", uuid.uuid4().hex
        try:
            taken = self.take_script(keys=[key], args=[member, self.lease_ms, self.limit])
        except redis.RedisError as error:  # streams keep working while Redis is away
            log.warning("cannot count the streams of %s (%s); letting this one open",
                        workspace_id, error)
        else:
            if not taken:
                return None
        return RedisSeat(self, key, member)

    def close(self) -> None:
        self.redis.close()


def stream_seats(redis_url: str, namespace: str, limit: int,
                 renewed_every: float) -> LocalSeats | RedisSeats:
    """Seats whose leases (with Redis) outlast a few renewals `renewed_every` seconds apart."""
    lease = max(LEASE_SECONDS, 4 * renewed_every)
    return RedisSeats(redis_url, namespace, limit, lease) if redis_url else LocalSeats(limit)
