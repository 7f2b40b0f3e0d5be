"""Heartbeat monitors: signals come in (beats, run starts, failures, logs), late and down go out,
and a monitor with neither a period nor a schedule learns its interval."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import monitor_lifecycle as lifecycle
from domain import runs
from domain.actor import Actor
from domain.beats import RECENT_BEATS, check_value, is_too_frequent, learned_interval
from domain.heartbeat_token import hash_token, token_lookup
from domain.monitor_config import CONFIG_FIELDS, MAX_SECONDS, check_config
from domain.monitor_lifecycle import MonitorLifecycle
from domain.schedule import cron_of, missed_since, next_expected

__all__ = ["MAX_SECONDS", "STATUSES", "Monitor"]
STATUSES = ("new", "up", "late", "down", "paused")
DEFAULT_GRACE_CAP = 3600  # without a grace, down one interval (at most an hour) after late


class Monitor(MonitorLifecycle, Aggregate):
    """One heartbeat monitor. Its status is decided by signals and by the clock, never by a client."""

    # Nested by assignment (see domain.monitor_lifecycle); StatusChanged comes before its subclasses.
    StatusChanged = lifecycle.StatusChanged
    Flipped = lifecycle.Flipped
    Paused = lifecycle.Paused
    Resumed = lifecycle.Resumed
    TokenRotated = lifecycle.TokenRotated
    Reconfigured = lifecycle.Reconfigured
    Deleted = lifecycle.Deleted
    IncidentOpened = lifecycle.IncidentOpened
    IncidentClosed = lifecycle.IncidentClosed

    def __init__(self, workspace_id: UUID, name: str, period_seconds: int | None,
                 grace_seconds: int | None, page_slug: str | None, token_lookup: str,
                 token_hash: str, actor: Actor, schedule: dict[str, str] | None = None,
                 max_runtime_seconds: int | None = None, min_runtime_seconds: int | None = None):
        self.workspace_id = workspace_id
        self.name = name
        self.period_seconds = period_seconds
        self.schedule = schedule
        self.grace_seconds = grace_seconds
        self.max_runtime_seconds = max_runtime_seconds
        self.min_runtime_seconds = min_runtime_seconds
        self.page_slug = page_slug
        self.token_lookup = token_lookup
        self.token_hash = token_hash
        self.status = "new"
        self.status_since: datetime = self.created_on
        self.last_beat_at: datetime | None = None
        self.late_at: datetime | None = None
        self.down_at: datetime | None = None
        self.learned_seconds: float | None = None
        self.recent_beats: list[dict[str, Any]] = []
        self.too_frequent_beats = 0
        self.incident_id: UUID | None = None
        self.open_runs: runs.OpenRuns = {}
        self.config_version = 1  # the ETag: settings changes move it, beats do not

    class Created(Aggregate.Created):
        workspace_id: UUID
        name: str
        period_seconds: int | None
        grace_seconds: int | None
        page_slug: str | None
        token_lookup: str
        token_hash: str
        actor: Actor
        schedule: dict[str, str] | None = None
        max_runtime_seconds: int | None = None
        min_runtime_seconds: int | None = None

    @classmethod
    def create(cls, *, monitor_id: UUID, workspace_id: UUID, token: str, actor: Actor,
               at: datetime, **config: Any) -> Monitor:
        """A monitor with the settings of `CONFIG_FIELDS` (those not given are unset)."""
        config = check_config({f: config.get(f) for f in CONFIG_FIELDS})
        return cls._create(cls.Created, id=monitor_id, timestamp=at, workspace_id=workspace_id,
                           token_lookup=token_lookup(token), token_hash=hash_token(token),
                           actor=actor, **config)

    @property
    def config(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in CONFIG_FIELDS}

    @property
    def expected_seconds(self) -> float | None:
        """The interval a beat is expected in: the period if set, else the learned one (None on
        a cron schedule, whose intervals vary)."""
        if self.schedule:
            return None
        return float(self.period_seconds) if self.period_seconds else self.learned_seconds

    def deadlines_after(self, moment: datetime, learned: float | None
                        ) -> tuple[datetime | None, datetime | None]:
        """When the monitor turns late and down if no beat follows one at `moment`."""
        expected = next_expected(moment, self.period_seconds, cron_of(self.schedule), learned)
        if expected is None:
            return None, None
        late_at, interval = expected
        grace = self.grace_seconds if self.grace_seconds is not None \
            else min(interval, DEFAULT_GRACE_CAP)
        return late_at, late_at + timedelta(seconds=grace)

    # --- signals -------------------------------------------------------------------------------

    class BeatRecorded(Aggregate.Event):
        """A success (a plain beat, `exit 0`, or the end of a run), with what it taught: the
        learned interval and the new deadlines. `started_at` is the start of the run it closed."""

        value: float | None
        too_frequent: bool
        learned_seconds: float | None
        late_at: datetime | None
        down_at: datetime | None
        rid: str | None = None
        body: str | None = None
        exit_status: int | None = None
        started_at: datetime | None = None

        def apply(self, aggregate: Monitor) -> None:
            aggregate.last_beat_at = self.timestamp
            aggregate.learned_seconds = self.learned_seconds
            aggregate.late_at, aggregate.down_at = self.late_at, self.down_at
            aggregate.too_frequent_beats += int(self.too_frequent)
            aggregate.recent_beats = [*aggregate.recent_beats, {
                "at": self.timestamp, "value": self.value, "too_frequent": self.too_frequent,
            }][-RECENT_BEATS:]
            aggregate.open_runs = runs.closed(aggregate.open_runs, self.rid)

    class RunStarted(Aggregate.Event):
        rid: str | None
        body: str | None

        def apply(self, aggregate: Monitor) -> None:
            aggregate.open_runs = runs.opened(aggregate.open_runs, self.rid, self.timestamp)

    class FailureRecorded(Aggregate.Event):
        """`/fail`, a non-zero exit status, or a run that ended too soon (`reason` says which)."""

        rid: str | None
        body: str | None
        exit_status: int | None
        reason: str
        started_at: datetime | None

        def apply(self, aggregate: Monitor) -> None:
            aggregate.open_runs = runs.closed(aggregate.open_runs, self.rid)

    class LogRecorded(Aggregate.Event):
        rid: str | None
        body: str | None

    class RunTimedOut(Aggregate.Event):
        """A run outlived `max_runtime_seconds` at `deadline`; it stays open until it ends."""

        rid: str | None
        deadline: datetime

        def apply(self, aggregate: Monitor) -> None:
            aggregate.open_runs = runs.timed_out(aggregate.open_runs, self.rid)

    def record_beat(self, value: float | None, *, at: datetime, rid: str | None = None,
                    body: str | None = None, exit_status: int | None = None) -> None:
        """A success: closes its run and is the beat; a monitor not paused is up again. A run
        shorter than `min_runtime_seconds` is a failure instead."""
        self.evaluate(at=at)
        started = runs.started_at(self.open_runs, rid)
        if runs.too_short(started, at, self.min_runtime_seconds):
            self.record_failure(at=at, rid=rid, body=body, exit_status=exit_status,
                                reason=runs.RUN_TOO_SHORT)
            return
        too_frequent = is_too_frequent(self.last_beat_at, at, self.expected_seconds)
        times = [b["at"] for b in self.recent_beats] + [at]
        learned = learned_interval(times[-RECENT_BEATS:])
        late_at, down_at = (None, None) if self.status == "paused" \
            else self.deadlines_after(at, learned)
        self.trigger_event(self.BeatRecorded, timestamp=at, value=check_value(value),
                           too_frequent=too_frequent, learned_seconds=learned, late_at=late_at,
                           down_at=down_at, rid=rid, body=body, exit_status=exit_status,
                           started_at=started)
        if self.status not in ("up", "paused"):
            self._flip("up", at, runs.SUCCESS, rid=rid)

    def start_run(self, *, at: datetime, rid: str | None = None, body: str | None = None) -> None:
        self.evaluate(at=at)
        self.trigger_event(self.RunStarted, timestamp=at, rid=rid, body=body)

    def record_failure(self, *, at: datetime, rid: str | None = None, body: str | None = None,
                       exit_status: int | None = None, reason: str = runs.FAILED) -> None:
        """A failed job: its run closes and a monitor not paused is down at once."""
        self.evaluate(at=at)
        self.trigger_event(self.FailureRecorded, timestamp=at, rid=rid, body=body,
                           exit_status=exit_status, reason=reason,
                           started_at=runs.started_at(self.open_runs, rid))
        if self.status not in ("down", "paused"):
            self._flip("down", at, reason, rid=rid, exit_status=exit_status)

    def record_log(self, *, at: datetime, rid: str | None = None, body: str | None = None) -> None:
        self.evaluate(at=at)
        self.trigger_event(self.LogRecorded, timestamp=at, rid=rid, body=body)

    # --- the clock -----------------------------------------------------------------------------

    def evaluate(self, *, at: datetime) -> bool:
        """Apply, in time order, every deadline that has passed by `at`: late after the expected
        time, down after the grace too, down when a run outlives `max_runtime_seconds`. True
        when anything was recorded (a run timing out on a monitor already down is, too)."""
        changed = False
        while (due := self._first_deadline(at)) is not None:
            moment, what, rid = due
            changed = True
            if what == runs.RUN_TIMEOUT:
                self.trigger_event(self.RunTimedOut, timestamp=at, rid=rid, deadline=moment)
                if self.status == "down":
                    continue
            self._flip("late" if what == runs.BEAT_OVERDUE else "down", at, what,
                       effective_at=max(moment, self.status_since), rid=rid)
        return changed

    def _first_deadline(self, at: datetime) -> tuple[datetime, str, str | None] | None:
        if self.status in ("paused", "deleted"):
            return None
        due: list[tuple[datetime, str, str | None]] = []
        if self.status == "up" and self.late_at is not None:  # before down when both are due
            due.append((self.late_at, runs.BEAT_OVERDUE, None))
        if self.status in ("up", "late") and self.down_at is not None:
            due.append((self.down_at, runs.GRACE_EXPIRED, None))
        timeout = runs.first_timeout(self.open_runs, self.max_runtime_seconds)
        if timeout is not None:
            due.append((timeout[0], runs.RUN_TIMEOUT, timeout[1]))
        passed = [d for d in due if d[0] <= at]
        return min(passed, key=lambda d: d[0]) if passed else None

    def _flip(self, after: str, at: datetime, reason: str, *, effective_at: datetime | None = None,
              rid: str | None = None, exit_status: int | None = None) -> None:
        self.trigger_event(self.Flipped, timestamp=at, before=self.status, after=after,
                           since=self.status_since, effective_at=effective_at or at,
                           reason=reason, rid=rid, exit_status=exit_status)

    def missed_count(self, now: datetime) -> int:
        """Expected beats gone by without one since the last one was due."""
        if self.late_at is None or self.status in ("paused", "deleted"):
            return 0
        return missed_since(self.late_at, now, cron_of(self.schedule), self.expected_seconds)


# Monitors snapshotted by an earlier release carry none of these: the class's values stand in
# (never mutated: events replace them whole).
for _name in ("schedule", "max_runtime_seconds", "min_runtime_seconds"):
    setattr(Monitor, _name, None)
Monitor.open_runs = {}
Monitor.config_version = 1


SIGNAL_KINDS = ("success", "start", "fail", "log")


def send_signal(monitor: Monitor, kind: str, *, at: datetime, value: float | None = None,
                rid: str | None = None, body: str | None = None,
                exit_status: int | None = None) -> None:
    """One signal from a job: a success (or `exit 0`), a start, a failure (or a non-zero exit
    status), or a log line."""
    if kind == "success" and exit_status:
        kind = "fail"
    if kind == "success":
        monitor.record_beat(value, at=at, rid=rid, body=body, exit_status=exit_status)
    elif kind == "start":
        monitor.start_run(at=at, rid=rid, body=body)
    elif kind == "fail":
        monitor.record_failure(at=at, rid=rid, body=body, exit_status=exit_status,
                               reason=runs.EXIT_STATUS if exit_status else runs.FAILED)
    elif kind == "log":
        monitor.record_log(at=at, rid=rid, body=body)
    else:
        raise ValueError(f"unknown signal {kind!r}")
