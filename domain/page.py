"""Status pages: one public page per slug within a workspace."""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.errors import ValidationError
from domain.ids import namespaced_id

# How much a second of each status counts against uptime (major outage: 1, always).
DEFAULT_UPTIME_WEIGHTS = {"partial_outage": 0.3, "degraded_performance": 0.0}
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def page_id(workspace_id: UUID, slug: str) -> UUID:
    return namespaced_id(workspace_id, "page", slug)


def check_name(name: str) -> None:
    if not name or len(name) > 255:
        raise ValidationError("name must be 1-255 characters",
                              details=[{"field": "name", "message": "1-255 characters"}])


class Page(Aggregate):
    """A public status page."""

    def __init__(self, workspace_id: UUID, slug: str, name: str, actor: Actor):
        self.workspace_id = workspace_id
        self.slug = slug
        self.name = name
        self.uptime_weights = dict(DEFAULT_UPTIME_WEIGHTS)

    class Created(Aggregate.Created):
        workspace_id: UUID
        slug: str
        name: str
        actor: Actor

    @classmethod
    def create(cls, *, workspace_id: UUID, slug: str, name: str, actor: Actor) -> Page:
        if not SLUG.match(slug or ""):
            raise ValidationError(
                "slug must be 1-64 lowercase letters, digits and inner hyphens",
                details=[{"field": "slug", "message": "lowercase letters, digits, hyphens"}],
            )
        check_name(name)
        return cls._create(cls.Created, id=page_id(workspace_id, slug),
                           workspace_id=workspace_id, slug=slug, name=name, actor=actor)

    class Renamed(Aggregate.Event):
        name: str
        actor: Actor

        def apply(self, aggregate: Page) -> None:
            aggregate.name = self.name

    def rename(self, name: str, *, actor: Actor, at: datetime) -> None:
        """Give the page a new title (its slug, and so its URL, stays)."""
        check_name(name)
        if name != self.name:
            self.trigger_event(self.Renamed, name=name, actor=actor, timestamp=at)

    class UptimeWeightsChanged(Aggregate.Event):
        uptime_weights: dict[str, float]
        actor: Actor

        def apply(self, aggregate: Page) -> None:
            aggregate.uptime_weights = dict(self.uptime_weights)

    def weigh_uptime(self, weights: dict[str, float], *, actor: Actor, at: datetime) -> None:
        """Set how much partial outages and degraded performance count against uptime (0-1)."""
        bad = [k for k, v in weights.items()
               if k not in DEFAULT_UPTIME_WEIGHTS or isinstance(v, bool)
               or not isinstance(v, int | float) or not 0 <= v <= 1]
        if bad:
            raise ValidationError(
                "uptime_weights takes partial_outage and degraded_performance, each from 0 to 1",
                details=[{"field": f"uptime_weights.{k}", "message": "a number from 0 to 1"}
                         for k in bad])
        wanted = {**self.uptime_weights, **{k: float(v) for k, v in weights.items()}}
        if wanted != self.uptime_weights:
            self.trigger_event(self.UptimeWeightsChanged, uptime_weights=wanted, actor=actor,
                               timestamp=at)
