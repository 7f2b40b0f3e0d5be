"""The monitoring context: heartbeat monitors, their tokens, and their beats."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.utils import EnvType

from application.base import BeaconApplication, Clock, retry_on_conflict, system_clock
from domain.actor import Actor
from domain.errors import AlreadyExistsError, MonitorNotFoundError, NotFoundError
from domain.heartbeat_token import TOKEN_PREFIX, HeartbeatToken, token_id, token_lookup
from domain.ids import new_id
from domain.monitor import Monitor

log = logging.getLogger("beacon.monitoring")


class DueMonitors(Protocol):
    """Finds the monitors whose next deadline has passed (the monitors read model answers)."""

    def due_for_check(self, now: datetime, limit: int = 1000) -> list[UUID]: ...


def new_token() -> str:
    """A fresh heartbeat token: a fixed prefix and 192 random bits, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(24)


class MonitoringApplication(BeaconApplication):
    name = "Monitoring"
    # A monitor collects a beat per ping; snapshots keep loading it cheap after a cache miss.
    snapshotting_intervals = {Monitor: 200}

    def __init__(self, env: EnvType | None = None, clock: Clock = system_clock, *,
                 due: DueMonitors) -> None:
        super().__init__(env, clock)
        self.due = due

    def check_due(self, follow_up: Callable[[Monitor], object] = lambda monitor: None) -> int:
        """Mark every overdue monitor late or down, then `follow_up` each (outage incidents);
        returns how many were due."""
        due = self.due.due_for_check(self.clock())
        for monitor_id in due:
            try:
                follow_up(self.check_overdue(monitor_id))
            except Exception:  # one monitor's trouble must not starve the others
                log.exception("checking monitor %s failed", monitor_id)
        return len(due)

    @retry_on_conflict  # a token's lookup collision: astronomically rare, draw again
    def create_monitor(self, workspace_id: UUID, *, name: str, period_seconds: int | None,
                       grace_seconds: int | None, page_slug: str | None,
                       actor: Actor, monitor_id: UUID | None = None) -> tuple[Monitor, str]:
        """Create a monitor; its token is returned once and only its hash is kept. A deploy
        gives the id it derives from the monitor's name in beacon.yml."""
        if monitor_id is not None and monitor_id in self.repository:
            raise AlreadyExistsError("the monitor exists already")
        token = new_token()
        monitor = Monitor.create(
            monitor_id=monitor_id or new_id(), workspace_id=workspace_id, name=name,
            period_seconds=period_seconds, grace_seconds=grace_seconds, page_slug=page_slug,
            token=token, actor=actor, at=self.clock())
        self.save(monitor, HeartbeatToken.issue(monitor_id=monitor.id, workspace_id=workspace_id,
                                                token=token))
        return monitor, token

    def get_monitor(self, workspace_id: UUID, monitor_id: UUID) -> Monitor:
        """A workspace's monitor; another workspace's monitor is not found."""
        monitor: Monitor = self.load(monitor_id, MonitorNotFoundError, "monitor",
                                     workspace_id=workspace_id)
        return monitor

    @retry_on_conflict
    def record_beat(self, token: str, value: float | None = None) -> Monitor | None:
        """Record a beat for the monitor whose current token this is; None for any other token."""
        lookup = token_lookup(token)
        if lookup is None:
            return None
        try:
            pointer: HeartbeatToken = self.load(token_id(lookup), NotFoundError, "token")
        except NotFoundError:
            return None
        monitor: Monitor = self.load(pointer.monitor_id, MonitorNotFoundError, "monitor")
        if not monitor.accepts(token):
            return None  # rotated away: a concurrent rotation makes this save conflict and retry
        monitor.record_beat(value, at=self.clock())
        self.save(monitor)
        return monitor

    @retry_on_conflict  # a concurrent beat or a lookup collision: load and decide again
    def rotate_token(self, workspace_id: UUID, monitor_id: UUID, *,
                     actor: Actor) -> tuple[Monitor, str]:
        """Give the monitor a new token; the old one records nothing from then on."""
        token = new_token()
        monitor = self.get_monitor(workspace_id, monitor_id)
        monitor.rotate_token(token, actor=actor, at=self.clock())
        self.save(monitor, HeartbeatToken.issue(monitor_id=monitor.id, workspace_id=workspace_id,
                                                token=token))
        return monitor, token

    def pause(self, workspace_id: UUID, monitor_id: UUID, *, actor: Actor) -> Monitor:
        return self._update(workspace_id, monitor_id,
                            lambda m: m.pause(actor=actor, at=self.clock()))

    def resume(self, workspace_id: UUID, monitor_id: UUID, *, actor: Actor) -> Monitor:
        return self._update(workspace_id, monitor_id,
                            lambda m: m.resume(actor=actor, at=self.clock()))

    @retry_on_conflict
    def check_overdue(self, monitor_id: UUID) -> Monitor:
        """Mark a monitor late or down if its deadlines have passed by the application's clock."""
        monitor: Monitor = self.load(monitor_id, MonitorNotFoundError, "monitor")
        if monitor.evaluate(at=self.clock()):
            self.save(monitor)
        return monitor

    @retry_on_conflict
    def link_incident(self, monitor_id: UUID, incident_id: UUID) -> Monitor:
        monitor: Monitor = self.load(monitor_id, MonitorNotFoundError, "monitor")
        monitor.link_incident(incident_id, at=self.clock())
        self.save(monitor)
        return monitor

    @retry_on_conflict
    def unlink_incident(self, monitor_id: UUID) -> Monitor:
        monitor: Monitor = self.load(monitor_id, MonitorNotFoundError, "monitor")
        monitor.unlink_incident(at=self.clock())
        self.save(monitor)
        return monitor

    @retry_on_conflict
    def _update(self, workspace_id: UUID, monitor_id: UUID, command: Any) -> Monitor:
        monitor = self.get_monitor(workspace_id, monitor_id)
        command(monitor)
        self.save(monitor)
        return monitor
