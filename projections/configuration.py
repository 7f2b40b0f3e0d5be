"""Configuration read models: the saved insights in force, and tracking-plan violations."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.configuration import ProjectConfiguration
from domain.plan_violations import PlanViolations
from projections.model import BIGINT, JSON, TEXT, Delete, Op, Projection, Table, Upsert, micros

INSIGHTS = Table(
    name="rm_saved_insights",
    columns={"workspace_id": TEXT, "name": TEXT, "type": TEXT, "definition": JSON,
             "deploy_version": BIGINT, "deployed_at": BIGINT},
    primary_key=("workspace_id", "name"),
)
VIOLATIONS = Table(
    name="rm_plan_violations",
    columns={"workspace_id": TEXT, "observation_id": TEXT, "event_name": TEXT, "count": BIGINT,
             "plan_version": BIGINT, "policy": TEXT, "observed_at": BIGINT},
    primary_key=("observation_id", "event_name"),
    indexes=(("workspace_id", "observed_at"),),
)


class ConfigurationProjection(Projection):
    name = "configuration"
    source = "Configuration"
    tables = (INSIGHTS, VIOLATIONS)
    topics = (get_topic(ProjectConfiguration.Deployed), get_topic(PlanViolations.Observed))

    def ops(self, event: Any) -> Iterable[Op]:
        if isinstance(event, ProjectConfiguration.Deployed):
            workspace = str(event.workspace_id)
            for name in (event.diff.get("insights") or {}).get("removed", []):
                yield Delete(INSIGHTS.name, {"workspace_id": workspace, "name": name})
            for name, definition in (event.document.get("insights") or {}).items():
                yield Upsert(INSIGHTS.name, {
                    "workspace_id": workspace, "name": name, "type": definition["type"],
                    "definition": definition, "deploy_version": event.deploy_version,
                    "deployed_at": micros(event.timestamp)})
        elif isinstance(event, PlanViolations.Observed):
            for name, count in event.counts.items():
                yield Upsert(VIOLATIONS.name, {
                    "workspace_id": str(event.workspace_id),
                    "observation_id": str(event.originator_id), "event_name": name,
                    "count": count, "plan_version": event.plan_version, "policy": event.policy,
                    "observed_at": micros(event.timestamp)})


class ConfigurationQueries(ABC):
    @abstractmethod
    def saved_insights(self, workspace_id: UUID) -> list[dict[str, Any]]:
        """The insights of the configuration in force, by name."""

    @abstractmethod
    def plan_violations(self, workspace_id: UUID, from_us: int | None,
                        to_us: int | None) -> list[dict[str, Any]]:
        """Violations per event name (most first), with the last time and plan version seen."""
