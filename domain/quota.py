"""TenantQuota: how many events a workspace may still send this calendar month (UTC), decided exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.ids import namespaced_id


def period_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def quota_id(workspace_id: UUID, period: str) -> UUID:
    return namespaced_id(workspace_id, "quota", period)


def remaining(limit: int, used: int) -> int:
    """How many more events a quota that has counted `used` admits under `limit`."""
    return max(limit - used, 0)


def has_room(limit: int, used: int, requested: int) -> bool:
    """Whether a quota that has counted `used` admits all of `requested` under `limit`. PostgreSQL
    repeats this rule when it takes a claim at lock time (docs/decisions/quota-claims.md);
    tests/integration/test_quota_room.py holds the two to the same answers."""
    return requested <= remaining(limit, used)


def resets_at(period: str) -> datetime:
    """The first instant of the month after `period`."""
    year, month = (int(part) for part in period.split("-"))
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


class TenantQuota(Aggregate):
    """One workspace's usage in one month. Concurrent writers conflict on its version and retry,
    so the cap is never exceeded; every decision, with what it refused and why, is an event."""

    def __init__(self, workspace_id: UUID, period: str):
        self.workspace_id = workspace_id
        self.period = period
        self.used = 0
        self.refused = 0
        self.limit: int | None = None

    class Opened(Aggregate.Created):
        workspace_id: UUID
        period: str

    @classmethod
    def open(cls, workspace_id: UUID, period: str) -> TenantQuota:
        return cls._create(cls.Opened, id=quota_id(workspace_id, period),
                           workspace_id=workspace_id, period=period)

    class Decided(Aggregate.Event):
        """A request asked for `requested` events to be counted; `admitted` were."""

        kind: str
        requested: int
        admitted: int
        refused: int
        limit: int
        reason: str | None

        def apply(self, aggregate: TenantQuota) -> None:
            aggregate.used += self.admitted
            aggregate.refused += self.refused
            aggregate.limit = self.limit

    def remaining(self, limit: int) -> int:
        return remaining(limit, self.used)

    def admit(self, requested: int, *, limit: int, kind: str, at: datetime,
              partial: bool = True) -> int:
        """Admit as many of `requested` as the limit leaves room for (all or none unless
        `partial`); returns how many."""
        if partial:
            admitted = min(requested, self.remaining(limit))
        else:
            admitted = requested if has_room(limit, self.used, requested) else 0
        refused = requested - admitted
        self.trigger_event(self.Decided, kind=kind, requested=requested, admitted=admitted,
                           refused=refused, limit=limit,
                           reason="monthly_event_limit" if refused else None, timestamp=at)
        return admitted

    @classmethod
    def admitting_all(cls, quota_id: UUID, requested: int, *, limit: int, kind: str,
                      at: datetime) -> TenantQuota.Decided:
        """The decision `admit` takes when the quota has room for all of `requested`, made
        before anyone knows whether it has: for a store that checks the room itself when it
        saves it, and gives it the quota's next version (0 here stands for that one)."""
        return cls.Decided(originator_id=quota_id, originator_version=0,  # type: ignore[call-arg]
                           timestamp=at, kind=kind, requested=requested, admitted=requested,
                           refused=0, limit=limit, reason=None)
