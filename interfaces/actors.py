"""dramatiq actors, declared on a broker the composition root built (no import-time broker)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dramatiq

if TYPE_CHECKING:
    from interfaces.bootstrap import Beacon

log = logging.getLogger("beacon.worker")


@dataclass
class Actors:
    """The jobs Beacon runs in the background."""

    catch_up_projections: dramatiq.Actor[Any, Any]


def declare_actors(beacon: Beacon, broker: dramatiq.Broker) -> Actors:
    def catch_up_projections() -> int:
        """Bring every read model up to the head of its log (also run periodically)."""
        pages = sum(runner.catch_up() for runner in beacon.runners)
        log.info("caught up %d page(s)", pages)
        return pages

    return Actors(
        catch_up_projections=dramatiq.actor(broker=broker, queue_name="beacon",
                                            max_retries=3)(catch_up_projections),
    )
