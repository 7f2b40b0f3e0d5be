"""Deploys and rollbacks of beacon.yml: the configuration's new version and every page, monitor
and alert rule it owns, recorded in one transaction, so a deploy that fails anywhere leaves the
previous version in force for all of them (docs/decisions/config-as-code.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from application.base import BeaconApplication, retry_on_conflict
from application.config_objects import ConfiguredObjects
from application.deploys import ConfigurationApplication
from domain.actor import Actor
from domain.configuration import ProjectConfiguration


class JointRecorder(Protocol):
    """Saves the pending events of several applications' aggregates in one transaction."""

    def save(self, saves: Sequence[tuple[BeaconApplication, Sequence[Any]]]) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Deployment:
    """What a deploy did: the version in force after it, its diff (empty: nothing changed) and
    the objects it made (tokens and secrets in them are shown this once)."""

    version: int
    diff: dict[str, Any]
    configuration: ProjectConfiguration
    created: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.diff)


class Deploys:
    def __init__(self, configuration: ConfigurationApplication, objects: ConfiguredObjects,
                 recorder: JointRecorder):
        self.configuration = configuration
        self.objects = objects
        self.recorder = recorder

    @retry_on_conflict
    def deploy(self, workspace_id: UUID, document: dict[str, Any], *, author: Actor) -> Deployment:
        """Put a compiled config in force as the next version, with its objects."""
        configuration = self.configuration.configuration(workspace_id)
        owned_before = dict(configuration.alert_ids)
        diff = configuration.deploy(document, author=author, at=self.configuration.clock())
        return self._land(configuration, owned_before, diff, author)

    @retry_on_conflict
    def rollback(self, workspace_id: UUID, version: int, *, author: Actor) -> Deployment:
        """Deploy an earlier version's document again, as a new version, with its objects."""
        configuration = self.configuration.configuration(workspace_id)
        owned_before = dict(configuration.alert_ids)
        diff = configuration.rollback(version, author=author, at=self.configuration.clock())
        return self._land(configuration, owned_before, diff, author)

    def _land(self, configuration: ProjectConfiguration, owned_before: dict[str, UUID],
              diff: dict[str, Any], author: Actor) -> Deployment:
        """One transaction: the configuration's event (if anything changed) and every object
        change that brings the workspace to the document in force."""
        changes = self.objects.changes(
            configuration.workspace_id, configuration.document, owned_before=owned_before,
            owned=configuration.alert_ids, actor=author, at=self.configuration.clock())
        saves: list[tuple[BeaconApplication, Sequence[Any]]] = list(changes.saves)
        if diff:
            saves.insert(0, (self.configuration, [configuration]))
        self.recorder.save(saves)
        return Deployment(configuration.deployed_version, diff, configuration, changes.created)
