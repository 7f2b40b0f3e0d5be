"""dramatiq brokers (DESIGN.md decision 7): in-process by default, Redis when configured."""

from __future__ import annotations

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


def build_broker(redis_url: str = "", namespace: str = "beacon") -> dramatiq.Broker:
    """A Redis broker for `beacon worker` processes, or a stub broker for the in-process worker."""
    middleware = [AgeLimit(), TimeLimit(), ShutdownNotifications(), Callbacks(), Pipelines(),
                  Retries(min_backoff=1000, max_backoff=300_000, max_retries=8)]
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
