"""At most one queued run of a job: a request queues one unless one is waiting already.

The projector asks for an alert evaluation each time a read model the rules measure moves, which
under load is many times a second; one evaluation reads everything new, so one waiting run is
enough. The run lets go when it starts (a request after that queues the next, so nothing read
after it started waits for the periodic timer; the caller may still delay the run it queues, as
alert evaluation does by `ALERT_EVALUATION_GAP`). With Redis the claim is shared by every process (`SET NX
PX`); it expires after `ttl`, so a run lost with a dead worker holds nothing for long.
"""

from __future__ import annotations

import logging
import threading

import redis

log = logging.getLogger("beacon.jobs")


class QueuedRun:
    def __init__(self, name: str, redis_url: str = "", ttl_seconds: float = 10.0):
        self.key = f"beacon:queued:{name}"
        self.ttl_ms = int(ttl_seconds * 1000)
        self.redis = redis.Redis.from_url(redis_url, socket_timeout=1) if redis_url else None
        self._waiting = False
        self._lock = threading.Lock()

    def claim(self) -> bool:
        """True if the caller should queue a run now (none is waiting)."""
        if self.redis is None:
            with self._lock:
                claimed, self._waiting = not self._waiting, True
                return claimed
        try:
            return bool(self.redis.set(self.key, "1", nx=True, px=self.ttl_ms))
        except redis.RedisError as error:
            log.warning("cannot claim %s (%s); queueing anyway", self.key, error)
            return True

    def started(self) -> None:
        """The waiting run has started: the next request queues another."""
        if self.redis is None:
            with self._lock:
                self._waiting = False
            return
        try:
            self.redis.delete(self.key)
        except redis.RedisError as error:
            log.warning("cannot release %s (%s); it expires by itself", self.key, error)

    def close(self) -> None:
        if self.redis is not None:
            self.redis.close()
