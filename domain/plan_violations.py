"""Tracking-plan violations seen at ingestion: a derived fact, recorded with the plan version it
was derived with (DESIGN.md decision 10), so counting them again from history answers the same."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate


class PlanViolations(Aggregate):
    """What one ingestion request's events broke, by event name. Immutable once observed."""

    def __init__(self, workspace_id: UUID, plan_version: int, policy: str, counts: dict[str, int]):
        self.workspace_id = workspace_id
        self.plan_version = plan_version
        self.policy = policy
        self.counts = counts

    class Observed(Aggregate.Created):
        workspace_id: UUID
        plan_version: int
        policy: str  # "flag": the events were accepted; "reject": they were refused
        counts: dict[str, int]

    @classmethod
    def observe(cls, *, observation_id: UUID, workspace_id: UUID, plan_version: int, policy: str,
                counts: dict[str, int], at: datetime) -> PlanViolations:
        return cls._create(cls.Observed, id=observation_id, timestamp=at, workspace_id=workspace_id,
                           plan_version=plan_version, policy=policy, counts=counts)
