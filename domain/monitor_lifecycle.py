"""A monitor's life beside its signals: status changes, pause and resume, token rotation, changes
to its settings, deletion, and the outage incident it keeps on its page.

The event classes are nested into `Monitor` by assignment (their topics are `Monitor.<Name>`); the
methods come to it through `MonitorLifecycle`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import runs
from domain.actor import Actor
from domain.errors import MonitorNotFoundError
from domain.heartbeat_token import hash_token, token_lookup, token_matches
from domain.monitor_config import changed_config


class StatusChanged(Aggregate.Event):
    """`before` held from `since` until `effective_at`, and `after` from then on.

    A change the periodic check finds takes effect when the deadline passed, not when the check
    ran, so outages (and uptime) do not depend on how often the check runs.
    """

    before: str
    after: str
    since: datetime
    effective_at: datetime

    def apply(self, aggregate: MonitorState) -> None:
        aggregate.status = self.after
        aggregate.status_since = self.effective_at


class Flipped(StatusChanged):
    """A status change with its reason (`domain.runs`), and the run and exit status behind it."""

    reason: str
    rid: str | None
    exit_status: int | None


class Paused(StatusChanged):
    actor: Actor

    def apply(self, aggregate: MonitorState) -> None:
        super().apply(aggregate)
        aggregate.late_at = aggregate.down_at = None


class Resumed(StatusChanged):
    """Back from a pause: the next beat is expected an interval after resuming."""

    actor: Actor
    late_at: datetime | None
    down_at: datetime | None

    def apply(self, aggregate: MonitorState) -> None:
        super().apply(aggregate)
        aggregate.late_at, aggregate.down_at = self.late_at, self.down_at


class TokenRotated(Aggregate.Event):
    token_lookup: str
    token_hash: str
    actor: Actor

    def apply(self, aggregate: MonitorState) -> None:
        aggregate.token_lookup = self.token_lookup
        aggregate.token_hash = self.token_hash


class Reconfigured(Aggregate.Event):
    """Settings changed (`changes`: field → [before, after]); deadlines follow the new schedule."""

    changes: dict[str, list[Any]]
    actor: Actor
    late_at: datetime | None
    down_at: datetime | None

    def apply(self, aggregate: MonitorState) -> None:
        for field, (_, after) in self.changes.items():
            setattr(aggregate, field, after)
        aggregate.late_at, aggregate.down_at = self.late_at, self.down_at
        aggregate.config_version = self.originator_version


class Deleted(Aggregate.Event):
    """Gone from lists and reads; its history stays, and its token records nothing any more."""

    actor: Actor

    def apply(self, aggregate: MonitorState) -> None:
        aggregate.status = "deleted"
        aggregate.late_at = aggregate.down_at = None


class IncidentOpened(Aggregate.Event):
    incident_id: UUID

    def apply(self, aggregate: MonitorState) -> None:
        aggregate.incident_id = self.incident_id


class IncidentClosed(Aggregate.Event):
    incident_id: UUID

    def apply(self, aggregate: MonitorState) -> None:
        aggregate.incident_id = None


class MonitorState(Protocol):
    """What the lifecycle's commands use of a monitor (the self-type of `MonitorLifecycle`)."""

    status: str
    status_since: datetime
    last_beat_at: datetime | None
    learned_seconds: float | None
    late_at: datetime | None
    down_at: datetime | None
    incident_id: UUID | None
    page_slug: str | None
    token_lookup: str
    token_hash: str
    config_version: int
    Paused: Any
    Resumed: Any
    Reconfigured: Any
    Deleted: Any
    TokenRotated: Any
    IncidentOpened: Any
    IncidentClosed: Any

    @property
    def config(self) -> dict[str, Any]: ...

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None: ...

    def deadlines_after(self, moment: datetime, learned: float | None
                        ) -> tuple[datetime | None, datetime | None]: ...

    def evaluate(self, *, at: datetime) -> bool: ...

    def check_not_deleted(self) -> None: ...


class MonitorLifecycle:
    """The commands behind the events above."""

    def pause(self: MonitorState, *, actor: Actor, at: datetime) -> None:
        self.check_not_deleted()
        if self.status != "paused":
            self.trigger_event(self.Paused, timestamp=at, before=self.status, after="paused",
                               since=self.status_since, effective_at=at, actor=actor)

    def resume(self: MonitorState, *, actor: Actor, at: datetime) -> None:
        self.check_not_deleted()
        if self.status != "paused":
            return
        after = "up" if self.last_beat_at else "new"
        late_at, down_at = self.deadlines_after(at, self.learned_seconds) if self.last_beat_at \
            else (None, None)
        self.trigger_event(self.Resumed, timestamp=at, before="paused", after=after,
                           since=self.status_since, effective_at=at, actor=actor,
                           late_at=late_at, down_at=down_at)

    def reconfigure(self: MonitorState, given: dict[str, Any], *, actor: Actor, at: datetime) -> None:
        """Change settings; a change that changes nothing records nothing."""
        self.check_not_deleted()
        changes = changed_config(self.config, given)
        if not changes:
            return
        late_at, down_at = self.late_at, self.down_at
        if self.status in ("up", "late") and self.last_beat_at is not None:
            after = {f: pair[1] for f, pair in changes.items()}
            late_at, down_at = _with(self, after).deadlines_after(self.last_beat_at,
                                                                  self.learned_seconds)
        self.trigger_event(self.Reconfigured, timestamp=at, changes=changes, actor=actor,
                           late_at=late_at, down_at=down_at)
        self.evaluate(at=at)  # a shorter period may already have passed

    def delete(self: MonitorState, *, actor: Actor, at: datetime) -> None:
        self.check_not_deleted()
        self.trigger_event(self.Deleted, timestamp=at, actor=actor)

    def check_not_deleted(self: MonitorState) -> None:
        if self.status == "deleted":
            raise MonitorNotFoundError("monitor not found")

    def rotate_token(self: MonitorState, token: str, *, actor: Actor, at: datetime) -> None:
        """Replace the token; the old one records nothing from this event on."""
        self.check_not_deleted()
        self.trigger_event(self.TokenRotated, timestamp=at, token_lookup=token_lookup(token),
                           token_hash=hash_token(token), actor=actor)

    def accepts(self: MonitorState, token: str) -> bool:
        return self.status != "deleted" and token_matches(token, self.token_lookup,
                                                          self.token_hash)

    def link_incident(self: MonitorState, incident_id: UUID, *, at: datetime) -> None:
        if self.incident_id != incident_id:
            self.trigger_event(self.IncidentOpened, timestamp=at, incident_id=incident_id)

    def unlink_incident(self: MonitorState, *, at: datetime) -> None:
        if self.incident_id is not None:
            self.trigger_event(self.IncidentClosed, timestamp=at, incident_id=self.incident_id)

    @property
    def needs_incident(self: MonitorState) -> bool:
        """Down, shown on a page, and no incident opened for it yet."""
        return self.status == "down" and self.page_slug is not None and self.incident_id is None

    @property
    def incident_outlived(self: MonitorState) -> bool:
        """Beats resumed (or the monitor was paused or deleted) while its outage incident is
        still linked."""
        return self.status != "down" and self.incident_id is not None


def _with(monitor: MonitorState, settings: dict[str, Any]) -> MonitorState:
    """A look at the monitor with other settings, to compute deadlines before deciding."""
    probe = object.__new__(type(monitor))
    probe.__dict__.update({**monitor.__dict__, **settings})
    return probe


REASONS_OF_OLD_CHANGES = {"up": runs.SUCCESS, "late": runs.BEAT_OVERDUE, "down": runs.GRACE_EXPIRED,
                          "paused": runs.PAUSED}


def reason_of(event: StatusChanged) -> str:
    """Why a status changed; changes recorded before reasons were kept get the only one they
    could have had."""
    if isinstance(event, Flipped):
        return event.reason
    if isinstance(event, Resumed):
        return runs.RESUMED
    return REASONS_OF_OLD_CHANGES.get(event.after, event.after)
