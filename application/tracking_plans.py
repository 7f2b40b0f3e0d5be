"""The tracking plans in force, held in memory for ingestion's hot path.

A request looks its workspace's plan up in a dict. The dict follows the configuration log: a
deploy made by this process puts its plan in at once (`landed`), so the next request applies it;
a deploy made by another API process is noticed by a version check, the log's head (one indexed
`max(id)`), made at most once per `check_every` seconds per process rather than per request, and
only when the head moved are the new deploys read (docs/decisions/config-as-code.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, cast
from uuid import UUID

from eventsourcing.utils import get_topic

from application.deploys import ConfigurationApplication
from domain.configuration import PLAN, ProjectConfiguration
from domain.tracking_plan import TrackingPlan

PAGE = 500


class TrackingPlans:
    def __init__(self, configuration: ConfigurationApplication, check_every: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic):
        self.configuration = configuration
        self.check_every = check_every
        self.monotonic = monotonic
        self._plans: dict[UUID, TrackingPlan | None] = {}
        self._versions: dict[UUID, int] = {}
        self._position = 0  # the last notification of the log read into `_plans`
        self._next_check = 0.0
        self._lock = threading.Lock()

    def plan_for(self, workspace_id: UUID) -> TrackingPlan | None:
        """The workspace's plan in force (None: it has none)."""
        if self.monotonic() >= self._next_check:
            self.refresh()
        return self._plans.get(workspace_id)

    def landed(self, configuration: ProjectConfiguration) -> None:
        """A deploy this process saved: its plan applies from the next request."""
        with self._lock:
            self._put(configuration.workspace_id, configuration.document,
                      configuration.deployed_version)

    def refresh(self) -> None:
        """Read the deploys the log gained since the last look (only if its head moved)."""
        with self._lock:
            if self.monotonic() < self._next_check:
                return  # another thread just looked
            head = self.configuration.recorder.max_notification_id() or 0
            while self._position < head:
                page = self.configuration.recorder.select_notifications(
                    self._position + 1, PAGE, topics=[get_topic(ProjectConfiguration.Deployed)])
                for notification in page:
                    event = cast(ProjectConfiguration.Deployed,
                                 self.configuration.mapper.to_domain_event(notification))
                    self._put(event.workspace_id, event.document, event.deploy_version)
                self._position = page[-1].id if page else head
            self._next_check = self.monotonic() + self.check_every

    def _put(self, workspace_id: UUID, document: dict[str, Any], version: int) -> None:
        """Keep the newest version seen (a deploy read from the log may be older than one
        this process landed itself)."""
        if self._versions.get(workspace_id, 0) <= version:
            self._plans[workspace_id] = TrackingPlan.from_document(document.get(PLAN), version)
            self._versions[workspace_id] = version
