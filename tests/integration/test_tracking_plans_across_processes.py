"""Two API processes on one store: a deploy applies in its own process from the next request,
and in the other once its version check comes round (a cheap look at the log's head)."""

from __future__ import annotations

import uuid
from typing import Any

from application.deploys import ConfigurationApplication
from application.tracking_plans import TrackingPlans
from domain.configuration import ProjectConfiguration
from infrastructure.settings import Settings
from tests.conftest import two_processes_of

AUTHOR = {"key_id": None, "name": "user:dev@example.com"}
PLAN = {"tracking_plan": {"on_violation": "reject", "events": {"visit": {}}}}


def deploy(application: ConfigurationApplication, workspace_id: uuid.UUID,
           document: dict[str, Any]) -> ProjectConfiguration:
    """Put a tracking plan in force (no pages, monitors or alert rules: the configuration's own
    event is the whole deploy, as application/config_deploys.py records it)."""
    configuration = application.configuration(workspace_id)
    configuration.deploy(document, author=AUTHOR, at=application.clock())
    application.save(configuration)
    return configuration


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_deploy_holds_at_once_here_and_after_the_next_version_check_elsewhere(
        settings: Settings) -> None:
    with two_processes_of(ConfigurationApplication, settings) as (deploying, serving):
        see_a_deploy_here_then_there(deploying, serving)


def see_a_deploy_here_then_there(deploying: ConfigurationApplication,
                                 serving: ConfigurationApplication) -> None:
    ticks = Ticks()
    here = TrackingPlans(deploying, check_every=1.0, monotonic=ticks)
    there = TrackingPlans(serving, check_every=1.0, monotonic=ticks)
    workspace_id = uuid.uuid4()
    assert here.plan_for(workspace_id) is None and there.plan_for(workspace_id) is None

    here.landed(deploy(deploying, workspace_id, PLAN))
    plan = here.plan_for(workspace_id)
    assert plan is not None and plan.version == 1 and plan.rejects
    assert there.plan_for(workspace_id) is None  # no query per request: not looked yet

    ticks.now += 1.0
    seen = there.plan_for(workspace_id)
    assert seen is not None and seen.version == 1 and seen.rejects

    deploy(deploying, workspace_id, {})  # the plan dropped: nothing is checked
    ticks.now += 1.0
    assert there.plan_for(workspace_id) is None
    assert here.plan_for(workspace_id) is None  # the deploying process reads its own log too


def test_a_new_process_starts_from_every_deploy_in_the_log(settings: Settings) -> None:
    with two_processes_of(ConfigurationApplication, settings) as (deploying, serving):
        start_from_the_log(deploying, serving)


def start_from_the_log(deploying: ConfigurationApplication,
                       serving: ConfigurationApplication) -> None:
    workspaces = [uuid.uuid4() for _ in range(3)]
    for workspace_id in workspaces:
        deploy(deploying, workspace_id, PLAN)
    deploy(deploying, workspaces[0], {"tracking_plan": {"on_violation": "flag",
                                                        "events": {"visit": {}}}})
    started = TrackingPlans(serving)
    versions = [started.plan_for(w) for w in workspaces]
    assert [(p.version, p.on_violation) for p in versions if p] == [
        (2, "flag"), (1, "reject"), (1, "reject")]
