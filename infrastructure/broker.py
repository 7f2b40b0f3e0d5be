"""dramatiq brokers (DESIGN.md decision 7): in-process by default, Redis when configured."""

from __future__ import annotations

import threading
from functools import cache

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)


class ProcessTimeLimit(TimeLimit):
    """dramatiq's TimeLimit, one per process: its watchdog thread (which wakes every second for
    ever) starts once, however many brokers share it. A TimeLimit of its own for every broker left
    one such thread behind for every Beacon built in a process: hundreds in the test suite, each
    taking the GIL every second."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._booted = False

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        with self._lock:
            if not self._booted:
                super().after_process_boot(broker)
                self._booted = True


@cache
def process_time_limit() -> ProcessTimeLimit:
    return ProcessTimeLimit()


def build_broker(redis_url: str = "", namespace: str = "beacon") -> dramatiq.Broker:
    """A Redis broker for `beacon worker` processes, or a stub broker for the in-process worker."""
    middleware = [AgeLimit(), process_time_limit(), ShutdownNotifications(), Callbacks(),
                  Pipelines(), Retries(min_backoff=1000, max_backoff=300_000, max_retries=8)]
    broker: dramatiq.Broker
    if redis_url:
        broker = RedisBroker(url=redis_url, namespace=namespace, middleware=middleware)
    else:
        broker = StubBroker(middleware=middleware)
        broker.emit_after("process_boot")
    dramatiq.set_broker(broker)
    return broker


def start_worker(broker: dramatiq.Broker, threads: int = 2) -> dramatiq.Worker:
    """A worker inside this process: `beacon serve` uses it when there is no Redis."""
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=500)
    worker.start()
    return worker
