"""Workspaces: the tenants of Beacon, with their plan, limits and IP allowlist."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.errors import ValidationError, WorkspaceNotFoundError

PLANS: dict[str, dict[str, int | None]] = {
    # requests per minute and events per month; enterprise is set per workspace.
    "free": {"rate_limit_per_minute": 60, "monthly_event_limit": 10_000},
    "starter": {"rate_limit_per_minute": 300, "monthly_event_limit": 1_000_000},
    "pro": {"rate_limit_per_minute": 1_000, "monthly_event_limit": 10_000_000},
    "enterprise": {"rate_limit_per_minute": 10_000, "monthly_event_limit": 100_000_000},
}


def check_plan(plan: str) -> None:
    if plan not in PLANS:
        raise ValidationError(
            f"unknown plan {plan!r}",
            details=[{"field": "plan", "message": f"one of {', '.join(PLANS)}"}],
        )


def check_allowlist(entries: list[str]) -> list[str]:
    """Normalise an IP allowlist of addresses and CIDR networks, refusing anything else."""
    normalised = []
    for entry in entries:
        try:
            normalised.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            raise ValidationError(
                f"not an IP address or network: {entry!r}",
                details=[{"field": "ip_allowlist", "message": f"invalid entry {entry!r}"}],
            ) from None
    return normalised


class Workspace(Aggregate):
    """A tenant. Its limits start from its plan and can be overridden one by one."""

    def __init__(self, name: str, plan: str, actor: Actor, slug: str | None = None):
        self.name = name
        self.slug = slug  # None for workspaces made before slugs: start-up assigns one
        self.plan = plan
        limits = PLANS[plan]
        self.monthly_event_limit = limits["monthly_event_limit"]
        self.rate_limit_per_minute = limits["rate_limit_per_minute"]
        self.ip_allowlist: list[str] = []
        self.store_ip = False  # keep clients' raw addresses with their events (opt-in)
        self.deleted_at: datetime | None = None
        self.deleted_by: Actor | None = None
        self.purged_at: datetime | None = None

    class Created(Aggregate.Created):
        name: str
        plan: str
        actor: Actor
        slug: str | None = None

    @classmethod
    def create(cls, *, workspace_id: Any, name: str, plan: str, actor: Actor,
               slug: str | None = None) -> Workspace:
        if not name or len(name) > 255:
            raise ValidationError("name must be 1-255 characters",
                                  details=[{"field": "name", "message": "1-255 characters"}])
        check_plan(plan)
        return cls._create(cls.Created, id=workspace_id, name=name, plan=plan, actor=actor,
                           slug=slug)

    class SlugAssigned(Aggregate.Event):
        slug: str
        actor: Actor

        def apply(self, aggregate: Workspace) -> None:
            aggregate.slug = self.slug

    def assign_slug(self, slug: str, actor: Actor) -> None:
        """Give a workspace made before slugs existed its slug (claimed in the same save)."""
        if self.slug is None:
            self.trigger_event(self.SlugAssigned, slug=slug, actor=actor)

    class Reconfigured(Aggregate.Event):
        changes: dict[str, list[Any]]
        actor: Actor

        def apply(self, aggregate: Workspace) -> None:
            for field, (_, after) in self.changes.items():
                setattr(aggregate, field, after)

    def reconfigure(self, *, actor: Actor, **requested: Any) -> None:
        """Change plan, limits, allowlist or store_ip; a new plan resets the limits it implies
        unless given."""
        wanted = {k: v for k, v in requested.items() if v is not None}
        if "plan" in wanted:
            check_plan(wanted["plan"])
            for field, value in PLANS[wanted["plan"]].items():
                wanted.setdefault(field, value)
        for field in ("monthly_event_limit", "rate_limit_per_minute"):
            if field in wanted and (not isinstance(wanted[field], int) or wanted[field] < 0):
                raise ValidationError(f"{field} must be a non-negative integer",
                                      details=[{"field": field, "message": "non-negative"}])
        if "store_ip" in wanted and not isinstance(wanted["store_ip"], bool):
            raise ValidationError("store_ip must be true or false",
                                  details=[{"field": "store_ip", "message": "a boolean"}])
        if "ip_allowlist" in wanted:
            wanted["ip_allowlist"] = check_allowlist(wanted["ip_allowlist"])
        changes = {
            field: [getattr(self, field, False), value]  # store_ip: absent before 2026-12-04
            for field, value in wanted.items()
            if getattr(self, field) != value
        }
        if changes:
            self.trigger_event(self.Reconfigured, changes=changes, actor=actor)

    class Deleted(Aggregate.Event):
        """The project is gone for everyone from this moment: its keys, members and pages answer
        as if it never existed. Its events stay, for audit."""

        actor: Actor

        def apply(self, aggregate: Workspace) -> None:
            aggregate.deleted_at = self.timestamp
            aggregate.deleted_by = self.actor

    @property
    def deleted(self) -> bool:
        return getattr(self, "deleted_at", None) is not None  # absent before 2026-12-05

    def check_confirmation(self, confirm: str | None) -> None:
        """A person deletes a project by typing its slug: anything else is refused."""
        if confirm != self.slug:
            raise ConfirmationError(
                f"type the project's slug ({self.slug!r}) in `confirm` to delete it",
                details=[{"field": "confirm", "message": f"must be {self.slug!r}"}])

    def delete(self, actor: Actor, at: datetime) -> None:
        if self.deleted:
            raise WorkspaceNotFoundError("project not found")
        self.trigger_event(self.Deleted, actor=actor, timestamp=at)

    class Purged(Aggregate.Event):
        """The read models no longer hold the deleted project's rows (`rows`: per table)."""

        rows: dict[str, int]

        def apply(self, aggregate: Workspace) -> None:
            aggregate.purged_at = self.timestamp

    def mark_purged(self, rows: dict[str, int], at: datetime) -> None:
        if self.deleted and getattr(self, "purged_at", None) is None:
            self.trigger_event(self.Purged, rows=rows, timestamp=at)


class ConfirmationError(ValidationError):
    """A deletion whose `confirm` is not the project's slug (answered 422)."""

    code = "confirmation_required"
