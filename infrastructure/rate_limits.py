"""Sliding-window rate limits per key (DESIGN.md decision 8), on Redis or in memory.

If Redis cannot be reached, limits fall back to this process's memory so ingestion keeps working
(each process then counts its own window: with N processes a key gets up to N times its limit);
`degraded` says so, for the log and /healthz. A degraded limiter tries Redis again every
RECHECK_SECONDS by itself, so limits are shared again soon after Redis is back.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger("beacon.rate_limits")
RECHECK_SECONDS = 5.0  # while degraded: how often a hit first tries Redis again (a 0.5 s ping)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # epoch seconds

    @property
    def retry_after(self) -> int:
        return max(1, self.reset_at - int(time.time()))


class RateLimiter:
    """`hit(key, amount_per_window)` counts one request and says whether it is allowed."""

    def __init__(self, redis_url: str = "", namespace: str = ""):
        """`namespace` keeps this deployment's windows apart from another's on the same Redis
        (a login throttled on one Beacon is not throttled on the other)."""
        self.redis_url = redis_url
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._redis: MovingWindowRateLimiter | None = None
        self.degraded = False
        self._rechecked = 0.0  # time.monotonic() of the last try to get back to Redis
        if redis_url:
            storage: Storage = RedisStorage(redis_url, key_prefix=f"LIMITS:{namespace}",
                                            socket_timeout=0.5, socket_connect_timeout=0.5)
            self._redis = MovingWindowRateLimiter(storage)

    def _strategy(self) -> MovingWindowRateLimiter:
        if self.degraded and time.monotonic() - self._rechecked >= RECHECK_SECONDS:
            self.recheck()
        return self._redis if self._redis and not self.degraded else self._memory

    def hit(self, key: str, limit: int, per_seconds: int = 60) -> Decision:
        item = RateLimitItemPerSecond(limit, per_seconds)
        try:
            strategy = self._strategy()
            allowed = strategy.hit(item, key)
            stats = strategy.get_window_stats(item, key)
        except Exception as error:  # noqa: BLE001 - any Redis failure degrades, never fails ingest
            if not self.degraded:
                log.warning("rate limits fall back to memory: Redis unreachable (%s)", error)
            self.degraded = True
            allowed = self._memory.hit(item, key)
            stats = self._memory.get_window_stats(item, key)
        return Decision(allowed=allowed, limit=limit, remaining=max(stats.remaining, 0),
                        reset_at=int(stats.reset_time))

    def peek(self, key: str, limit: int, per_seconds: int = 60) -> Decision:
        """Whether one more hit would be allowed, without counting one (login throttling counts
        only failures, so it looks first and hits after a failure)."""
        item = RateLimitItemPerSecond(limit, per_seconds)
        try:
            strategy = self._strategy()
            stats = strategy.get_window_stats(item, key)
        except Exception:  # noqa: BLE001 - as in hit(): degrade to memory
            self.degraded = True
            stats = self._memory.get_window_stats(item, key)
        return Decision(allowed=stats.remaining > 0, limit=limit,
                        remaining=max(stats.remaining, 0), reset_at=int(stats.reset_time))

    def recheck(self) -> bool:
        """Try Redis again after a fallback; True when limits are shared again."""
        if self._redis and self.degraded:
            self._rechecked = time.monotonic()
            try:
                healthy = self._redis.storage.check()
            except Exception:  # noqa: BLE001
                healthy = False
            if healthy:
                self.degraded = False
                log.info("rate limits back on Redis")
        return not self.degraded
