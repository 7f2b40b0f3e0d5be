"""`beacon projector` and `beacon worker`: the long-running processes of the production shape."""

from __future__ import annotations

from typing import Annotated

import typer

from interfaces.cli.console import console, fail
from interfaces.cli.lifecycle import configure_logging, load_settings, running, wait_for_shutdown


def projector(
    only: Annotated[list[str] | None, typer.Option(
        "--only", help="Run only this projection (repeatable), e.g. `--only enrichment` for the "
                       "enrichment pipeline in a process of its own.")] = None,
    skip: Annotated[list[str] | None, typer.Option(
        "--skip", help="Run every projection but this one (repeatable), e.g. `--skip enrichment` "
                       "beside a `beacon projector --only enrichment`.")] = None,
) -> None:
    """Keep every read model up to date until SIGINT or SIGTERM. Split between processes with
    --only and --skip, every projection should run in exactly one of them; two projectors that both
    run one are safe (each page is applied once), but do the work twice."""
    settings = load_settings()
    if only and skip:
        fail("give --only or --skip, not both")
    configure_logging(settings)
    with running(settings) as beacon:
        beacon.deletions.finish_deletions()  # a purge a crash interrupted
        started = beacon.start_projections(only or (), skip or ())
        console.print(f"projecting {', '.join(started)}; Ctrl-C to stop")
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
