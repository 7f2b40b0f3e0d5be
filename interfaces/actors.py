"""dramatiq actors, declared on a broker the composition root built (no import-time broker)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import dramatiq

from infrastructure.scheduler import PeriodicJob
from projections.model import micros

if TYPE_CHECKING:
    from interfaces.bootstrap import Beacon

log = logging.getLogger("beacon.worker")


@dataclass
class Actors:
    """The jobs Beacon runs in the background."""

    catch_up_projections: dramatiq.Actor[Any, Any]
    expire_sessions: dramatiq.Actor[Any, Any]


def catch_up_projections(beacon: Beacon) -> int:
    """Bring every read model up to the head of its log; returns how many pages were applied."""
    pages = sum(runner.catch_up() for runner in beacon.runners)
    log.info("caught up %d page(s)", pages)
    return pages


def expire_quiet_sessions(beacon: Beacon) -> int:
    """End sessions with no activity for the configured timeout (end_reason 'timeout')."""
    timeout = timedelta(minutes=beacon.settings.session_timeout_minutes)
    cutoff = micros(beacon.telemetry.clock() - timeout)
    ended = 0
    for row in beacon.telemetry_queries.quiet_sessions(cutoff):
        ended += beacon.telemetry.expire_session(UUID(row["workspace_id"]), row["session_id"],
                                                 row["last"])
    if ended:
        log.info("ended %d quiet session(s)", ended)
    return ended


def declare_actors(beacon: Beacon, broker: dramatiq.Broker) -> Actors:
    """Each job as a dramatiq actor (results are logged, not returned: there is no result store)."""

    def job(work: Callable[[Beacon], object], name: str) -> dramatiq.Actor[Any, Any]:
        def run() -> None:
            work(beacon)

        run.__name__ = name
        return dramatiq.actor(broker=broker, queue_name="beacon", max_retries=3)(run)

    return Actors(catch_up_projections=job(catch_up_projections, "catch_up_projections"),
                  expire_sessions=job(expire_quiet_sessions, "expire_sessions"))


def periodic_jobs(actors: Actors) -> list[PeriodicJob]:
    """What the scheduler enqueues, and how often."""
    return [PeriodicJob("expire_sessions", 60, actors.expire_sessions.send)]
