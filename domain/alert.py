"""Alert rules: a condition over what a workspace receives, where to say so, and every state change.

A rule is `ok` or `firing`. Each evaluation observes a value at an instant; crossing the threshold
fires, falling back resolves. Firing and resolving are events (DESIGN.md decision 10), carrying the
value that caused them and the channels told, so history answers "why did it fire" and a restart
that evaluates the same instant again finds the rule already firing: the event is the idempotency
key. A firing inside the cooldown, or while muted, is recorded but tells no channel; if it is
still firing when that is over, the channels are told then (`Notified`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.alert_conditions import check_condition, crossed, invalid
from domain.subscriber import check_secret, check_url

MAX_COOLDOWN = 7 * 86_400
MAX_CHANNELS, MAX_NAME, MAX_DESCRIPTION = 10, 200, 2000


def check_channels(raw: object) -> list[dict[str, str]]:
    """Signed webhooks: each `{type: webhook, url, secret}` with its id given by the caller."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_CHANNELS:
        raise invalid("channels", f"a list of 1-{MAX_CHANNELS} webhooks")
    channels = []
    for channel in raw:
        if not isinstance(channel, dict) or channel.get("type", "webhook") != "webhook":
            raise invalid("channels", "each {type: webhook, url, secret}")
        channels.append({"id": str(UUID(str(channel["id"]))), "type": "webhook",
                         "url": check_url(channel.get("url")),
                         "secret": check_secret(channel.get("secret"))})
    return channels


def check_name(name: object) -> str:
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_NAME:
        raise invalid("name", f"1-{MAX_NAME} characters")
    return name.strip()


def check_description(text: object) -> str | None:
    """What the rule means and what to do when it fires (sent with its webhooks); blank: none."""
    if text is None:
        return None
    if not isinstance(text, str) or len(text.strip()) > MAX_DESCRIPTION:
        raise invalid("description", f"at most {MAX_DESCRIPTION} characters, or null")
    return text.strip() or None


def check_cooldown(seconds: object) -> int:
    if (not isinstance(seconds, int) or isinstance(seconds, bool)
            or not 0 <= seconds <= MAX_COOLDOWN):
        raise invalid("cooldown_seconds", f"0-{MAX_COOLDOWN} seconds")
    return seconds


class Alert(Aggregate):
    """One alert rule of a workspace and its state."""

    def __init__(self, workspace_id: UUID, name: str, condition: dict[str, Any],
                 channels: list[dict[str, str]], cooldown_seconds: int, actor: Actor,
                 description: str | None):
        self.workspace_id = workspace_id
        self.name = name
        self.description = description
        self.condition = condition
        self.channels = channels
        self.cooldown_seconds = cooldown_seconds
        self.state = "ok"
        self.state_since: datetime | None = None
        self.last_notified_at: datetime | None = None
        self.firing_notified = False
        self.muted_until: datetime | None = None
        self.deleted = False
        self.cause: dict[str, Any] | None = None  # what made the current firing (Fired.cause)

    class Created(Aggregate.Created):
        class_version = 2

        workspace_id: UUID
        name: str
        condition: dict[str, Any]
        channels: list[dict[str, str]]
        cooldown_seconds: int
        actor: Actor
        description: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["description"] = None  # made before rules had descriptions

    @classmethod
    def create(cls, *, alert_id: UUID, workspace_id: UUID, name: str, condition: object,
               channels: object, cooldown_seconds: object, actor: Actor, at: datetime,
               description: object = None) -> Alert:
        return cls._create(cls.Created, id=alert_id, timestamp=at, workspace_id=workspace_id,
                           name=check_name(name), condition=check_condition(condition),
                           channels=check_channels(channels),
                           cooldown_seconds=check_cooldown(cooldown_seconds), actor=actor,
                           description=check_description(description))

    @classmethod
    def preview(cls, *, workspace_id: UUID, condition: dict[str, Any], at: datetime) -> Alert:
        """A rule that is never saved and tells no one: what a preview evaluates."""
        return cls._create(cls.Created, id=UUID(int=0), timestamp=at, workspace_id=workspace_id,
                           name="preview", condition=condition, channels=[],
                           cooldown_seconds=0, actor={"key_id": None, "name": "preview"},
                           description=None)

    class Changed(Aggregate.Event):
        """Only the fields given changed; a new condition starts again from `ok`."""

        fields: dict[str, Any]
        actor: Actor

        def apply(self, aggregate: Alert) -> None:
            for name, value in self.fields.items():
                setattr(aggregate, name, value)
            if "condition" in self.fields:
                aggregate.state, aggregate.state_since = "ok", self.timestamp
                aggregate.cause = None

    def change(self, *, actor: Actor, at: datetime, **given: Any) -> None:
        checks = {"name": check_name, "condition": check_condition, "channels": check_channels,
                  "cooldown_seconds": check_cooldown, "description": check_description}
        fields = {name: checks[name](value) for name, value in given.items()}
        fields = {name: value for name, value in fields.items() if getattr(self, name) != value}
        if fields:
            self.trigger_event(self.Changed, timestamp=at, fields=fields, actor=actor)

    class Muted(Aggregate.Event):
        until: datetime | None
        actor: Actor

        def apply(self, aggregate: Alert) -> None:
            aggregate.muted_until = self.until

    def mute(self, *, until: datetime | None, actor: Actor, at: datetime) -> None:
        """Tell no channel until `until` (None unmutes); state changes are still recorded."""
        if until is not None and until <= at:
            raise invalid("until", "a time in the future")
        self.trigger_event(self.Muted, timestamp=at, until=until, actor=actor)

    class Deleted(Aggregate.Event):
        actor: Actor

        def apply(self, aggregate: Alert) -> None:
            aggregate.deleted = True

    def delete(self, *, actor: Actor, at: datetime) -> None:
        if not self.deleted:
            self.trigger_event(self.Deleted, timestamp=at, actor=actor)

    class ChannelsTested(Aggregate.Event):
        """Someone asked for a test message to every channel (`alert.test`): nothing fired, and
        the rule's state, mute and cooldown are as they were."""

        channels: list[str]
        actor: Actor

    def test_channels(self, *, actor: Actor, at: datetime) -> list[str]:
        """Send every channel a test message (muted or not: it was asked for); their ids."""
        if self.deleted:
            raise invalid("alert", "deleted")
        channels = [c["id"] for c in self.channels]
        self.trigger_event(self.ChannelsTested, timestamp=at, channels=channels, actor=actor)
        return channels

    class Fired(Aggregate.Event):
        """The value crossed the threshold at `timestamp`; `channels` were told (none when
        `suppressed` says why: muted, cooldown or maintenance). `cause`: what the value counted,
        where a number alone does not say (the exception groups, the monitor), else None."""

        class_version = 2

        value: float
        channels: list[str]
        suppressed: str | None
        cause: dict[str, Any] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["cause"] = None  # fired before causes were recorded

        def apply(self, aggregate: Alert) -> None:
            aggregate.state, aggregate.state_since = "firing", self.timestamp
            aggregate.cause = self.cause
            aggregate.firing_notified = bool(self.channels)
            if self.channels:
                aggregate.last_notified_at = self.timestamp

    class Notified(Aggregate.Event):
        """Still firing at `timestamp`, and told now: the firing was recorded while muted, in
        the cooldown or under maintenance, and that is over."""

        value: float
        channels: list[str]

        def apply(self, aggregate: Alert) -> None:
            aggregate.firing_notified = True
            aggregate.last_notified_at = self.timestamp

    class Resolved(Aggregate.Event):
        """The value fell back at `timestamp`; the channels told of the firing are told too."""

        value: float
        channels: list[str]

        def apply(self, aggregate: Alert) -> None:
            aggregate.state, aggregate.state_since = "ok", self.timestamp

    def observe(self, value: float, *, at: datetime, maintenance: bool = False,
                cause: Callable[[], dict[str, Any] | None] = lambda: None) -> bool:
        """Evaluate the rule on `value` seen at `at`; whether its state changed. An observation
        older than the last state change is stale (it was evaluated already) and ignored, as is
        one from before the rule existed (a worker catching up on instants it missed). A
        firing during `maintenance` of what the rule watches is recorded and tells no one;
        `cause` is asked only when it fires (what the value counted: `Fired.cause`)."""
        if self.deleted or at < self.created_on or (
                self.state_since is not None and at < self.state_since):
            return False  # deleted, not yet a rule at `at`, or stale
        firing = crossed(self.condition, value)
        if firing and self.state == "ok":
            suppressed = "maintenance" if maintenance else self._suppressed(at)
            self.trigger_event(self.Fired, timestamp=at, value=value, suppressed=suppressed,
                               channels=[] if suppressed else [c["id"] for c in self.channels],
                               cause=cause())
            return True
        if (firing and self.state == "firing" and not self.firing_notified and self.channels
                and not maintenance and self._suppressed(at) is None):
            self.trigger_event(self.Notified, timestamp=at, value=value,
                               channels=[c["id"] for c in self.channels])
            return True
        if not firing and self.state == "firing":
            channels = [c["id"] for c in self.channels] if self.firing_notified else []
            self.trigger_event(self.Resolved, timestamp=at, value=value, channels=channels)
            return True
        return False

    def _suppressed(self, at: datetime) -> str | None:
        if self.muted_until is not None and at < self.muted_until:
            return "muted"
        if (self.last_notified_at is not None
                and at - self.last_notified_at < timedelta(seconds=self.cooldown_seconds)):
            return "cooldown"
        return None

    def channel(self, channel_id: str) -> dict[str, str] | None:
        return next((c for c in self.channels if c["id"] == channel_id), None)
