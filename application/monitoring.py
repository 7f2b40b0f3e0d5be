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
from application.monitor_history import check_version, configuration_history, version_at
from domain.actor import Actor
from domain.errors import AlreadyExistsError, MonitorNotFoundError, NotFoundError
from domain.heartbeat_token import TOKEN_PREFIX, HeartbeatToken, token_id, token_lookup
from domain.ids import new_id
from domain.monitor import Monitor, send_signal
from domain.preview import flips_of, replay

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
                 due: DueMonitors, closed: Callable[[UUID], bool] = lambda _: False) -> None:
        super().__init__(env, clock)
        self.due = due
        self.closed = closed  # whether a workspace was deleted: its monitors record and check nothing

    def check_due(self, follow_up: Callable[[Monitor], object] = lambda monitor: None) -> int:
        """Mark every overdue monitor late or down, then `follow_up` each (outage incidents);
        returns how many were due."""
        due = self.due.due_for_check(self.clock())
        for monitor_id in due:
            try:
                follow_up(self.check_overdue(monitor_id))
            except MonitorNotFoundError:
                continue  # its project was deleted: it goes neither late nor down, nor alerts
            except Exception:  # one monitor's trouble must not starve the others
                log.exception("checking monitor %s failed", monitor_id)
        return len(due)

    @retry_on_conflict  # a token's lookup collision: astronomically rare, draw again
    def create_monitor(self, workspace_id: UUID, *, actor: Actor, monitor_id: UUID | None = None,
                       **config: Any) -> tuple[Monitor, str]:
        """Create a monitor with the settings given (`domain.monitor_config.CONFIG_FIELDS`); its
        token is returned once and only its hash is kept. A deploy gives the id it derives from
        the monitor's name in beacon.yml."""
        if monitor_id is not None and monitor_id in self.repository:
            raise AlreadyExistsError("the monitor exists already")
        monitor, issued, token = self.new_monitor(workspace_id, actor=actor,
                                                  monitor_id=monitor_id or new_id(), **config)
        self.save(monitor, issued)
        return monitor, token

    def new_monitor(self, workspace_id: UUID, *, actor: Actor, monitor_id: UUID,
                    **config: Any) -> tuple[Monitor, HeartbeatToken, str]:
        """A monitor and its token's lookup, not saved yet (a deploy saves them with its
        version), and the token, shown once."""
        token = new_token()
        monitor = Monitor.create(monitor_id=monitor_id, workspace_id=workspace_id,
                                 token=token, actor=actor, at=self.clock(), **config)
        return monitor, HeartbeatToken.issue(monitor_id=monitor.id, workspace_id=workspace_id,
                                             token=token), token

    def get_monitor(self, workspace_id: UUID, monitor_id: UUID,
                    as_of: datetime | None = None) -> Monitor:
        """A workspace's monitor, now or as it was at `as_of`; another workspace's monitor, or a
        deleted one, is not found."""
        version = version_at(self.events.get(monitor_id), as_of) if as_of is not None else None
        monitor: Monitor = self.load(monitor_id, MonitorNotFoundError, "monitor", version,
                                     workspace_id=workspace_id, kind=Monitor)
        monitor.check_not_deleted()
        return monitor

    def has_monitor(self, workspace_id: UUID, monitor_id: UUID) -> bool:
        """Whether the workspace has a live monitor by this id."""
        try:
            self.get_monitor(workspace_id, monitor_id)
        except MonitorNotFoundError:
            return False
        return True

    def record_beat(self, token: str, value: float | None = None) -> Monitor | None:
        """Record a beat for the monitor whose current token this is; None for any other token."""
        return self.record_signal(token, "success", value=value)

    @retry_on_conflict
    def record_signal(self, token: str, kind: str, **signal: Any) -> Monitor | None:
        """Record a job's signal (`domain.monitor.SIGNAL_KINDS`) for the monitor whose current
        token this is; None for any other token."""
        lookup = token_lookup(token)
        if lookup is None:
            return None
        try:
            pointer: HeartbeatToken = self.load(token_id(lookup), NotFoundError, "token",
                                                kind=HeartbeatToken)
        except NotFoundError:
            return None
        if self.closed(pointer.workspace_id):
            return None  # a deleted project's monitors record nothing
        monitor: Monitor = self.load(pointer.monitor_id, MonitorNotFoundError, "monitor", kind=Monitor)
        if not monitor.accepts(token):
            return None  # rotated away: a concurrent rotation makes this save conflict and retry
        send_signal(monitor, kind, at=self.clock(), **signal)
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
        monitor: Monitor = self.load(monitor_id, MonitorNotFoundError, "monitor", kind=Monitor)
        if self.closed(monitor.workspace_id):
            raise MonitorNotFoundError("monitor not found")
        if monitor.evaluate(at=self.clock()):
            self.save(monitor)
        return monitor

    @retry_on_conflict
    def link_incident(self, monitor_id: UUID, incident_id: UUID) -> Monitor:
        monitor: Monitor = self.load(monitor_id, MonitorNotFoundError, "monitor", kind=Monitor)
        monitor.link_incident(incident_id, at=self.clock())
        self.save(monitor)
        return monitor

    @retry_on_conflict
    def unlink_incident(self, monitor_id: UUID) -> Monitor:
        monitor: Monitor = self.load(monitor_id, MonitorNotFoundError, "monitor", kind=Monitor)
        monitor.unlink_incident(at=self.clock())
        self.save(monitor)
        return monitor

    def reconfigure(self, workspace_id: UUID, monitor_id: UUID, changes: dict[str, Any], *,
                    actor: Actor, expected_version: int | None = None) -> Monitor:
        """Change a monitor's settings; with `expected_version`, only if nobody changed it since."""
        return self._update(workspace_id, monitor_id,
                            lambda m: m.reconfigure(changes, actor=actor, at=self.clock()),
                            expected_version)

    def delete(self, workspace_id: UUID, monitor_id: UUID, *, actor: Actor) -> Monitor:
        return self._update(workspace_id, monitor_id,
                            lambda m: m.delete(actor=actor, at=self.clock()))

    def history(self, workspace_id: UUID, monitor_id: UUID) -> list[dict[str, Any]]:
        """Every change to the monitor's settings, oldest first."""
        self.get_monitor(workspace_id, monitor_id)
        return configuration_history(self.events.get(monitor_id))

    def preview(self, workspace_id: UUID, monitor_id: UUID, settings: dict[str, Any],
                since: datetime, until: datetime) -> list[dict[str, Any]]:
        """The flips other settings would have made of the stored signals; nothing is saved."""
        monitor = self.get_monitor(workspace_id, monitor_id)
        until = min(until, self.clock())
        probe = replay(monitor, self.events.get(monitor_id), settings, until)
        return flips_of(probe.collect_events(), since, until)

    @retry_on_conflict
    def _update(self, workspace_id: UUID, monitor_id: UUID, command: Any,
                expected_version: int | None = None) -> Monitor:
        monitor = self.get_monitor(workspace_id, monitor_id)
        check_version(monitor.config_version, expected_version)
        command(monitor)
        self.save(monitor)
        return monitor
