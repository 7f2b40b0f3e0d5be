"""A project's configuration as code: the compiled beacon.yml in force, and every deploy of it.

One aggregate per workspace. A deploy is one event carrying its version, its author, the whole
compiled document and its diff from the version before, so the configuration in force at any
version can be read back from history, and a rollback is a new deploy of an old document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.errors import DeployNotFoundError, OwnedByConfigError
from domain.ids import namespaced_id

# Sections of named objects; their names are the keys a diff and ownership speak of.
SECTIONS = ("pages", "monitors", "insights", "alerts")
PLAN = "tracking_plan"


def configuration_id(workspace_id: UUID) -> UUID:
    return namespaced_id(workspace_id, "configuration", "beacon.yml")


def config_monitor_id(workspace_id: UUID, name: str) -> UUID:
    """The id of the monitor a config names: the same on every deploy, so creating is idempotent."""
    return namespaced_id(workspace_id, "config-monitor", name)


def config_alert_id(workspace_id: UUID, name: str, since_version: int) -> UUID:
    """The id of the alert rule a config names, from the version that added it: a rule dropped
    from beacon.yml is deleted, and one added again later is a new rule."""
    return namespaced_id(workspace_id, "config-alert", f"{since_version}:{name}")


def _named_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[str]]:
    diff = {"added": sorted(set(after) - set(before)),
            "removed": sorted(set(before) - set(after)),
            "changed": sorted(k for k in set(before) & set(after) if before[k] != after[k])}
    return {kind: names for kind, names in diff.items() if names}


def diff_of(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Per section, which names were added, removed (released) or changed; for the tracking
    plan, its events likewise and its settings before and after. Empty when nothing changed."""
    diff: dict[str, Any] = {}
    for section in SECTIONS:
        named = _named_diff(before.get(section) or {}, after.get(section) or {})
        if named:
            diff[section] = named
    plan_before, plan_after = before.get(PLAN) or {}, after.get(PLAN) or {}
    plan = _named_diff(plan_before.get("events") or {}, plan_after.get("events") or {})
    settings = {key: [plan_before.get(key), plan_after.get(key)]
                for key in sorted((set(plan_before) | set(plan_after)) - {"events"})
                if plan_before.get(key) != plan_after.get(key)}
    if plan or settings:
        diff[PLAN] = {"events": plan, "settings": settings}
    return diff


class ProjectConfiguration(Aggregate):
    """The configuration of one workspace: the document in force and the deploys that led there."""

    def __init__(self, workspace_id: UUID):
        self.workspace_id = workspace_id
        self.document: dict[str, Any] = {}
        self.deployed_version = 0
        self.documents: dict[int, dict[str, Any]] = {}  # every version's document, for rollbacks
        self.deploys: list[dict[str, Any]] = []
        self.alert_ids: dict[str, UUID] = {}  # the rules the version in force owns, by name

    class Started(Aggregate.Created):
        workspace_id: UUID

    @classmethod
    def start(cls, workspace_id: UUID, at: datetime) -> ProjectConfiguration:
        return cls._create(cls.Started, id=configuration_id(workspace_id), timestamp=at,
                           workspace_id=workspace_id)

    class Deployed(Aggregate.Event):
        workspace_id: UUID
        deploy_version: int
        author: Actor
        document: dict[str, Any]
        diff: dict[str, Any]
        rolled_back_from: int | None

        def apply(self, aggregate: ProjectConfiguration) -> None:
            aggregate.alert_ids = {
                name: aggregate.alert_ids.get(name) or config_alert_id(
                    self.workspace_id, name, self.deploy_version)
                for name in self.document.get("alerts") or {}}
            aggregate.document = self.document
            aggregate.deployed_version = self.deploy_version
            aggregate.documents[self.deploy_version] = self.document
            aggregate.deploys.append({
                "version": self.deploy_version, "author": self.author, "deployed_at": self.timestamp,
                "diff": self.diff, "rolled_back_from": self.rolled_back_from})

    def deploy(self, document: dict[str, Any], *, author: Actor, at: datetime,
               rolled_back_from: int | None = None) -> dict[str, Any]:
        """Put `document` in force as the next version, unless it changes nothing; the diff."""
        diff = diff_of(self.document, document)
        if diff:
            self.trigger_event(self.Deployed, timestamp=at, workspace_id=self.workspace_id,
                               deploy_version=self.deployed_version + 1,
                               author=author, document=document, diff=diff,
                               rolled_back_from=rolled_back_from)
        return diff

    def rollback(self, version: int, *, author: Actor, at: datetime) -> dict[str, Any]:
        """Deploy an earlier version's document again, as a new version."""
        if version not in self.documents:
            raise DeployNotFoundError(f"no deploy with version {version}")
        return self.deploy(self.documents[version], author=author, at=at, rolled_back_from=version)

    def owns(self, section: str, name: str) -> bool:
        return name in (self.document.get(section) or {})

    def claim(self, section: str, name: str, object_id: UUID | None = None) -> dict[str, Any] | None:
        """beacon.yml's claim on an object, or None when the API owns it. A monitor or an alert
        rule is claimed only if it is the one the config made (its id derives from the name):
        one made through the API that shares a name stays the API's."""
        owned_id = {"monitors": config_monitor_id(self.workspace_id, name),
                    "alerts": self.alert_ids.get(name)}.get(section)
        if object_id is not None and section in ("monitors", "alerts") and object_id != owned_id:
            return None
        if not self.owns(section, name):
            return None
        return {"file": "beacon.yml", "version": self.deployed_version, "section": section,
                "name": name}

    def check_not_owned(self, section: str, name: str, what: str,
                        object_id: UUID | None = None) -> None:
        """Refuse an API change to an object the configuration owns (409 naming the config)."""
        claim = self.claim(section, name, object_id)
        if claim is not None:
            error = OwnedByConfigError(
                f"{what} is owned by the project's configuration (beacon.yml, version "
                f"{self.deployed_version}): change it there, or drop it from beacon.yml to "
                "release it", details=[{"field": section, "message": name}])
            error.extra = {"config": claim}
            raise error
