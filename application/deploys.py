"""The configuration context: the configuration in force, dry runs, ownership, and the violations
of the tracking plan that ingestion observed. Deploys and rollbacks, which record the configuration
with the objects it owns, are application/config_deploys.py (docs/decisions/config-as-code.md)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from uuid6 import uuid7

from application.base import BeaconApplication
from domain.configuration import PLAN, ProjectConfiguration, configuration_id
from domain.plan_violations import PlanViolations
from domain.time import micros
from domain.tracking_plan import TrackingPlan

REPLAY_DAYS, TOP_VIOLATIONS = 30, 10


class StoredEvents(Protocol):
    """The workspace's stored events, read back from the read models (for dry runs)."""

    def names_and_properties(self, workspace_id: UUID, from_us: int,
                             to_us: int) -> Iterable[tuple[str, dict[str, Any] | None]]: ...


class ConfigurationApplication(BeaconApplication):
    name = "Configuration"

    def configuration(self, workspace_id: UUID) -> ProjectConfiguration:
        """The workspace's configuration; one never deployed is empty, at version 0."""
        try:
            configuration: ProjectConfiguration = self.repository.get(configuration_id(workspace_id))
        except AggregateNotFoundError:
            configuration = ProjectConfiguration.start(workspace_id, self.clock())
        return configuration

    def preview(self, workspace_id: UUID, document: dict[str, Any]) -> dict[str, Any]:
        """The diff a deploy of `document` would make, changing nothing."""
        configuration = self.configuration(workspace_id)
        return configuration.deploy(document, author={"key_id": None, "name": "dry run"},
                                    at=self.clock())  # never saved

    def replay_plan(self, workspace_id: UUID, document: dict[str, Any],
                    stored: StoredEvents) -> dict[str, Any]:
        """How the last 30 days' stored events would have fared under the document's tracking
        plan: how many were checked, how many would have violated it, the top violations."""
        plan = TrackingPlan.from_document(document.get(PLAN), version=0)
        now = self.clock()
        checked, violating = 0, 0
        top: Counter[tuple[str, str, str]] = Counter()
        if plan is not None:
            for name, properties in stored.names_and_properties(
                    workspace_id, micros(now - timedelta(days=REPLAY_DAYS)), micros(now) + 1):
                checked += 1
                found = plan.violations(name, properties)
                if found:
                    violating += 1
                    top.update((name, f["field"], f["message"]) for f in found)
        return {"days": REPLAY_DAYS, "events_checked": checked, "violating_events": violating,
                "would_reject": violating if plan is not None and plan.rejects else 0,
                "top_violations": [{"event": e, "field": f, "message": m, "count": n}
                                   for (e, f, m), n in top.most_common(TOP_VIOLATIONS)]}

    def check_not_owned(self, workspace_id: UUID, section: str, name: str, what: str,
                        object_id: UUID | None = None) -> None:
        """409 for an API change to an object the configuration in force owns."""
        self.configuration(workspace_id).check_not_owned(section, name, what, object_id)

    def record_violations(self, workspace_id: UUID, plan: TrackingPlan,
                          counts: dict[str, int]) -> None:
        """Record what one request's events broke (each request its own aggregate: no conflicts)."""
        self.save(PlanViolations.observe(observation_id=uuid7(), workspace_id=workspace_id,
                                         plan_version=plan.version, policy=plan.on_violation,
                                         counts=counts, at=self.clock()))
