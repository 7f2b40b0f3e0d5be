"""The tracking plan at admission: every ingest dialect checks its valid events against the plan
in force before they are admitted, and counts the violations after.

Under `reject` a violating event is refused (status `plan_violation`, with what it broke); under
`flag` it is admitted and counted. The plan comes from an in-process cache
(application/tracking_plans.py): a workspace without a plan costs one dict lookup.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from application.telemetry import ACCEPTED, INVALID, Outcome
from domain.tracked_event import TrackedEvent
from domain.tracking_plan import TrackingPlan
from interfaces.bootstrap import Beacon

PLAN_VIOLATION = "plan_violation"


@dataclass
class PlanCheck:
    """What the plan said of a request's events, by index."""

    plan: TrackingPlan | None = None
    refused: dict[int, str] = field(default_factory=dict)  # index -> event name
    flagged: dict[int, str] = field(default_factory=dict)
    problems: dict[int, list[dict[str, str]]] = field(default_factory=dict)

    def refused_problems(self) -> list[tuple[int, list[dict[str, str]]]]:
        return [(index, self.problems[index]) for index in self.refused]


NOTHING_CHECKED = PlanCheck()


def check_plan(beacon: Beacon, workspace_id: UUID, checked: list[Any]) -> PlanCheck:
    """Check the valid events of `checked` against the plan; under `reject`, a violating event
    is replaced in `checked` by what it broke, so the admission refuses it."""
    plan = beacon.tracking_plans.plan_for(workspace_id)
    if plan is None or plan.checks_nothing:
        return NOTHING_CHECKED
    check = PlanCheck(plan)
    for index, item in enumerate(checked):
        if not isinstance(item, TrackedEvent):
            continue
        found = plan.violations(item.name, item.properties)
        if not found:
            continue
        check.problems[index] = [{**problem, "rule": "tracking_plan"} for problem in found]
        if plan.rejects:
            check.refused[index] = item.name
            checked[index] = check.problems[index]
        else:
            check.flagged[index] = item.name
    return check


def settle_plan(beacon: Beacon, workspace_id: UUID, check: PlanCheck,
                outcome: Outcome | None) -> None:
    """After the admission: refused events get their own status, and what was refused or
    admitted flagged is counted (a duplicate or an event over the quota is not)."""
    if check.plan is None or not (check.refused or check.flagged):
        return
    counts: Counter[str] = Counter(check.refused.values())
    if outcome is not None:
        for index in check.refused:
            if outcome.statuses[index] == INVALID:
                outcome.statuses[index] = PLAN_VIOLATION
        counts.update(name for index, name in check.flagged.items()
                      if outcome.statuses[index] == ACCEPTED)
    if counts:
        beacon.configuration.record_violations(workspace_id, check.plan, dict(counts))
