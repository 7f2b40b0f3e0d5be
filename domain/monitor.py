"""Heartbeat monitors: beats come in, late and down go out, and a monitor without a period learns one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.beats import RECENT_BEATS, check_value, is_too_frequent, learned_interval
from domain.errors import ValidationError
from domain.heartbeat_token import hash_token, token_lookup, token_matches
from domain.page import SLUG

STATUSES = ("new", "up", "late", "down", "paused")
DEFAULT_GRACE_CAP = 3600  # without a grace, down one interval (at most an hour) after late
MAX_SECONDS = 31 * 86_400


def check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise ValidationError("name must be 1-255 characters",
                              details=[{"field": "name", "message": "1-255 characters"}])
    return name


def check_seconds(field: str, value: object, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_SECONDS:
        raise ValidationError(f"{field} must be an integer from {minimum} to {MAX_SECONDS}",
                              details=[{"field": field, "message": f"{minimum}-{MAX_SECONDS}"}])
    return value


class Monitor(Aggregate):
    """One heartbeat monitor. Its status is decided by beats and by the clock, never by a client."""

    def __init__(self, workspace_id: UUID, name: str, period_seconds: int | None,
                 grace_seconds: int | None, page_slug: str | None, token_lookup: str,
                 token_hash: str, actor: Actor):
        self.workspace_id = workspace_id
        self.name = name
        self.period_seconds = period_seconds
        self.grace_seconds = grace_seconds
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

    class Created(Aggregate.Created):
        workspace_id: UUID
        name: str
        period_seconds: int | None
        grace_seconds: int | None
        page_slug: str | None
        token_lookup: str
        token_hash: str
        actor: Actor

    @classmethod
    def create(cls, *, monitor_id: UUID, workspace_id: UUID, name: str,
               period_seconds: int | None, grace_seconds: int | None, page_slug: str | None,
               token: str, actor: Actor, at: datetime) -> Monitor:
        check_name(name)
        check_seconds("period_seconds", period_seconds, 10)
        check_seconds("grace_seconds", grace_seconds, 0)
        if page_slug is not None and not SLUG.match(page_slug):
            raise ValidationError("page_slug is not a page slug",
                                  details=[{"field": "page_slug", "message": "invalid slug"}])
        return cls._create(cls.Created, id=monitor_id, timestamp=at, workspace_id=workspace_id,
                           name=name, period_seconds=period_seconds, grace_seconds=grace_seconds,
                           page_slug=page_slug, token_lookup=token_lookup(token),
                           token_hash=hash_token(token), actor=actor)

    @property
    def expected_seconds(self) -> float | None:
        """The interval a beat is expected in: the period if set, else the learned one."""
        return float(self.period_seconds) if self.period_seconds else self.learned_seconds

    def schedule_from(self, moment: datetime,
                      expected: float | None) -> tuple[datetime | None, datetime | None]:
        """When the monitor turns late and down if no beat follows `moment`."""
        if expected is None:
            return None, None
        grace = self.grace_seconds if self.grace_seconds is not None \
            else min(expected, DEFAULT_GRACE_CAP)
        late_at = moment + timedelta(seconds=expected)
        return late_at, late_at + timedelta(seconds=grace)

    class BeatRecorded(Aggregate.Event):
        """A beat, with what it taught: the learned interval and the new deadlines."""

        value: float | None
        too_frequent: bool
        learned_seconds: float | None
        late_at: datetime | None
        down_at: datetime | None

        def apply(self, aggregate: Monitor) -> None:
            aggregate.last_beat_at = self.timestamp
            aggregate.learned_seconds = self.learned_seconds
            aggregate.late_at, aggregate.down_at = self.late_at, self.down_at
            aggregate.too_frequent_beats += int(self.too_frequent)
            aggregate.recent_beats = [*aggregate.recent_beats, {
                "at": self.timestamp, "value": self.value, "too_frequent": self.too_frequent,
            }][-RECENT_BEATS:]

    class StatusChanged(Aggregate.Event):
        """`before` held from `since` until `effective_at`, and `after` from then on.

        A change the periodic check finds takes effect when the deadline passed, not when the
        check ran, so outages (and uptime) do not depend on how often the check runs.
        """

        before: str
        after: str
        since: datetime
        effective_at: datetime

        def apply(self, aggregate: Monitor) -> None:
            aggregate.status = self.after
            aggregate.status_since = self.effective_at

    def record_beat(self, value: float | None, *, at: datetime) -> None:
        """Record a beat; a late, down or new monitor is up again (a paused one stays paused)."""
        too_frequent = is_too_frequent(self.last_beat_at, at, self.expected_seconds)
        times = [b["at"] for b in self.recent_beats] + [at]
        learned = learned_interval(times[-RECENT_BEATS:])
        expected = float(self.period_seconds) if self.period_seconds else learned
        late_at, down_at = (None, None) if self.status == "paused" \
            else self.schedule_from(at, expected)
        self.trigger_event(self.BeatRecorded, timestamp=at, value=check_value(value),
                           too_frequent=too_frequent, learned_seconds=learned,
                           late_at=late_at, down_at=down_at)
        if self.status not in ("up", "paused"):
            self._change_status("up", at)

    def evaluate(self, *, at: datetime) -> bool:
        """Mark the monitor late after its expected interval and down after the grace too."""
        if self.status not in ("up", "late") or self.late_at is None or self.down_at is None:
            return False
        if at >= self.down_at:
            self._change_status("down", at, effective_at=self.down_at)
        elif at >= self.late_at and self.status == "up":
            self._change_status("late", at, effective_at=self.late_at)
        else:
            return False
        return True

    def _change_status(self, after: str, at: datetime,
                       effective_at: datetime | None = None) -> None:
        self.trigger_event(self.StatusChanged, timestamp=at, before=self.status, after=after,
                           since=self.status_since, effective_at=effective_at or at)

    class Paused(StatusChanged):
        actor: Actor

        def apply(self, aggregate: Monitor) -> None:
            super().apply(aggregate)
            aggregate.late_at = aggregate.down_at = None

    class Resumed(StatusChanged):
        """Back from a pause: the next beat is expected an interval after resuming."""

        actor: Actor
        late_at: datetime | None
        down_at: datetime | None

        def apply(self, aggregate: Monitor) -> None:
            super().apply(aggregate)
            aggregate.late_at, aggregate.down_at = self.late_at, self.down_at

    def pause(self, *, actor: Actor, at: datetime) -> None:
        if self.status != "paused":
            self.trigger_event(self.Paused, timestamp=at, before=self.status, after="paused",
                               since=self.status_since, effective_at=at, actor=actor)

    def resume(self, *, actor: Actor, at: datetime) -> None:
        if self.status != "paused":
            return
        after = "up" if self.last_beat_at else "new"
        late_at, down_at = self.schedule_from(at, self.expected_seconds) if self.last_beat_at \
            else (None, None)
        self.trigger_event(self.Resumed, timestamp=at, before="paused", after=after,
                           since=self.status_since, effective_at=at, actor=actor,
                           late_at=late_at, down_at=down_at)

    class TokenRotated(Aggregate.Event):
        token_lookup: str
        token_hash: str
        actor: Actor

        def apply(self, aggregate: Monitor) -> None:
            aggregate.token_lookup = self.token_lookup
            aggregate.token_hash = self.token_hash

    def rotate_token(self, token: str, *, actor: Actor, at: datetime) -> None:
        """Replace the token; the old one records nothing from this event on."""
        self.trigger_event(self.TokenRotated, timestamp=at, token_lookup=token_lookup(token),
                           token_hash=hash_token(token), actor=actor)

    def accepts(self, token: str) -> bool:
        return token_matches(token, self.token_lookup, self.token_hash)

    class IncidentOpened(Aggregate.Event):
        incident_id: UUID

        def apply(self, aggregate: Monitor) -> None:
            aggregate.incident_id = self.incident_id

    class IncidentClosed(Aggregate.Event):
        incident_id: UUID

        def apply(self, aggregate: Monitor) -> None:
            aggregate.incident_id = None

    def link_incident(self, incident_id: UUID, *, at: datetime) -> None:
        if self.incident_id != incident_id:
            self.trigger_event(self.IncidentOpened, timestamp=at, incident_id=incident_id)

    def unlink_incident(self, *, at: datetime) -> None:
        if self.incident_id is not None:
            self.trigger_event(self.IncidentClosed, timestamp=at, incident_id=self.incident_id)

    @property
    def needs_incident(self) -> bool:
        """Down, shown on a page, and no incident opened for it yet."""
        return self.status == "down" and self.page_slug is not None and self.incident_id is None

    @property
    def incident_outlived(self) -> bool:
        """Beats resumed (or the monitor was paused) while its outage incident is still linked."""
        return self.status != "down" and self.incident_id is not None

    def missed_count(self, now: datetime) -> int:
        """Whole expected intervals gone by without a beat since the last one was due."""
        expected = self.expected_seconds
        if self.late_at is None or expected is None or now < self.late_at:
            return 0
        return 1 + int((now - self.late_at).total_seconds() // expected)
