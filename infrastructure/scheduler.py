"""Periodic jobs: every interval, enqueue each job once across all processes.

In the embedded default one process runs everything, so a job is simply enqueued on time. With
Redis, every `beacon worker` runs a scheduler; a `SET NX PX` claim per job and interval makes sure
only one of them enqueues it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

log = logging.getLogger("beacon.scheduler")


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_seconds: float
    enqueue: Callable[[], object]


class Scheduler(threading.Thread):
    def __init__(self, jobs: list[PeriodicJob], stop: threading.Event, redis_url: str = "",
                 tick: float = 1.0, namespace: str = ""):
        """`namespace`: this Beacon's (BEACON_NAMESPACE), so that Beacons sharing one Redis
        claim their own jobs, not each other's."""
        super().__init__(daemon=True, name="scheduler")
        self.jobs, self.stop, self.tick = jobs, stop, tick
        self.redis = redis.Redis.from_url(redis_url, socket_timeout=1) if redis_url else None
        self.prefix = f"beacon:{namespace}:schedule:" if namespace else "beacon:schedule:"
        self._due = {job.name: 0.0 for job in jobs}

    def claim(self, job: PeriodicJob) -> bool:
        """True if this process should enqueue `job` now."""
        if self.redis is None:
            return True
        try:
            return bool(self.redis.set(self.prefix + job.name, "1", nx=True,
                                       px=int(job.every_seconds * 1000)))
        except redis.RedisError as error:
            log.warning("cannot claim %s (%s); skipping this round", job.name, error)
            return False

    def run_due(self, now: float) -> None:
        for job in self.jobs:
            if now >= self._due[job.name]:
                self._due[job.name] = now + job.every_seconds
                if self.claim(job):
                    try:
                        job.enqueue()
                    except Exception:
                        log.exception("could not enqueue %s", job.name)

    def run(self) -> None:
        while not self.stop.is_set():
            self.run_due(time.monotonic())
            self.stop.wait(self.tick)
