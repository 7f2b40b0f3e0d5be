"""`beacon projector` and `beacon worker`: the long-running processes of the production shape."""

from __future__ import annotations

from typing import Annotated

import typer

from interfaces.cli.console import console, fail
from interfaces.cli.lifecycle import configure_logging, load_settings, running, wait_for_shutdown


def projector() -> None:
    """Keep every read model up to date until SIGINT or SIGTERM."""
    settings = load_settings()
    configure_logging(settings)
    with running(settings) as beacon:
        beacon.deletions.finish_deletions()  # a purge a crash interrupted
        beacon.start_projections()
        console.print(f"projecting {', '.join(r.name for r in beacon.runners)}; Ctrl-C to stop")
        wait_for_shutdown()


def worker(
    threads: Annotated[int, typer.Option(min=1, help="Worker threads in this process.")] = 2,
) -> None:
    """Run background jobs from the Redis queues until SIGINT or SIGTERM."""
    settings = load_settings()
    if not settings.redis_url:
        fail("beacon worker needs BEACON_REDIS_URL; without Redis, "
             "`beacon serve` runs the worker in its own process")
    configure_logging(settings)
    with running(settings) as beacon:
        beacon.start_worker(threads)
        console.print(f"worker running with {threads} thread(s); Ctrl-C to stop")
        wait_for_shutdown()
