"""The alerts context: alert rules, their state changes, and what their webhooks carry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from application.base import BeaconApplication, retry_on_conflict
from application.statuspages import new_secret
from application.webhooks import DeliveryKey, Recipient
from domain.actor import Actor
from domain.alert import Alert
from domain.alert_book import AlertBook, alert_book_id
from domain.alert_conditions import invalid
from domain.errors import AlertNotFoundError, NotFoundError, check_version
from domain.ids import new_id
from domain.time import iso

# A rule's value seen at an instant, and what it counted (asked only if it fires: Fired.cause).
Observation = tuple[datetime, float, Callable[[], dict[str, Any] | None]]
STATE_EVENTS = (Alert.Created, Alert.Fired, Alert.Notified, Alert.Resolved)
HISTORY_CHUNK = 500  # a rule's events read at a time while gathering a page of its history


def with_ids(channels: object, kept: list[dict[str, str]] | None = None) -> object:
    """Channels as given, each with a fresh id and a secret made when none was brought. Given
    the rule's channels (`kept`, a change), an entry naming one of them by `id` keeps it, with its
    secret and its deliveries, changing only the `url` or `secret` it brings."""
    if not isinstance(channels, list):
        return channels
    known = {channel["id"]: channel for channel in kept or []}
    named: set[str] = set()
    made = []
    for n, channel in enumerate(channels):
        if not isinstance(channel, dict) or kept is None or channel.get("id") is None:
            made.append({**channel, "id": str(new_id()),
                         "secret": channel.get("secret") or new_secret()}
                        if isinstance(channel, dict) else channel)
            continue
        same = known.get(str(channel["id"]))
        if same is None or same["id"] in named:
            raise invalid(f"channels.{n}.id", "not one of this rule's channels"
                          if same is None else "names a channel twice")
        named.add(same["id"])
        made.append({**same, **{k: v for k, v in channel.items()
                                if k in ("type", "url", "secret") and v is not None}})
    return made


def kept_channel_ids(given: object) -> set[str]:
    """Of a change's channels, the ids of those it keeps with their secret (not shown again)."""
    if not isinstance(given, list):
        return set()
    return {str(c["id"]) for c in given
            if isinstance(c, dict) and c.get("id") is not None and not c.get("secret")}


def alert_json(alert: Alert, *, secrets: bool = False,
               hidden: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """An alert as the API shows it; channel secrets only when just made (they sign webhooks),
    and not then for the channels in `hidden` (kept by a change, their secret shown before)."""
    return {
        "id": str(alert.id), "name": alert.name, "description": alert.description,
        "condition": alert.condition,
        "channels": [{k: v for k, v in c.items()
                      if k != "secret" or (secrets and c["id"] not in hidden)}
                     for c in alert.channels],
        "cooldown_seconds": alert.cooldown_seconds, "state": alert.state,
        "state_since": iso(alert.state_since), "muted_until": iso(alert.muted_until),
        "created_at": iso(alert.created_on), "updated_at": iso(alert.modified_on),
        "version": alert.version,
    }


def state_change(event: Any) -> dict[str, Any]:
    """One history entry: the state a rule entered, when, the value that caused it and why: a
    new condition starts again from `ok`, and a firing told late (once its mute, cooldown or
    maintenance was over) is a second `firing` entry."""
    entry = {"version": event.originator_version, "at": event.timestamp, "value": None,
             "cause": None, "notified": [], "suppressed": None, "reason": None}
    if isinstance(event, Alert.Created | Alert.Changed):
        reason = "created" if isinstance(event, Alert.Created) else "condition changed"
        return {**entry, "state": "ok", "reason": reason}
    return {**entry, "state": "resolved" if isinstance(event, Alert.Resolved) else "firing",
            "value": event.value, "notified": event.channels,
            "cause": getattr(event, "cause", None),
            "suppressed": getattr(event, "suppressed", None),
            "reason": "told late" if isinstance(event, Alert.Notified) else None}


def is_state_change(event: Any) -> bool:
    return isinstance(event, STATE_EVENTS) or (
        isinstance(event, Alert.Changed) and "condition" in event.fields)


class AlertsApplication(BeaconApplication):
    """Alert rules: written by people, fired and resolved by evaluation."""

    name = "Alerts"
    # A workspace's book takes an event per rule made or deleted, a rule one per state change (a
    # flapping rule, thousands: 10,000 took 250 ms to load in a process that had not cached it):
    # snapshots keep loading either cheap. History is read from the events, not the snapshots.
    snapshotting_intervals = {AlertBook: 100, Alert: 200}
    # Refuses a webhook URL whose host is not public, when a rule is written (the composition root
    # sets it; sending checks again, as a name can come to resolve elsewhere).
    check_channel_url: Callable[[str], None] | None = None
    # How many live rules a workspace may have (BEACON_ALERT_RULES_MAX_PER_WORKSPACE), and the ids
    # of a workspace's live rules as the read model lists them: what opens the book of a workspace
    # whose rules predate books (the composition root sets both).
    rule_limit = 500
    listed_rule_ids: Callable[[UUID], list[str]] | None = None
    # Whether a workspace has a (live) monitor by this id: a rule may watch only its own
    # workspace's monitors (the composition root sets it).
    has_monitor: Callable[[UUID, UUID], bool] | None = None

    def book(self, workspace_id: UUID) -> AlertBook:
        """The workspace's book of live rules, opened (unsaved) if it has none yet."""
        try:
            book: AlertBook = self.repository.get(alert_book_id(workspace_id))
        except AggregateNotFoundError:
            listed = self.listed_rule_ids(workspace_id) if self.listed_rule_ids else []
            return AlertBook.open(workspace_id, listed)
        return book

    def check_channels(self, alert: Alert) -> None:
        if self.check_channel_url is not None:
            for channel in alert.channels:
                self.check_channel_url(channel["url"])

    def check_watched(self, workspace_id: UUID, condition: dict[str, Any]) -> None:
        """A monitor condition names a monitor of this workspace, or the rule is refused (it
        would never fire: evaluation reads only the workspace's own monitors)."""
        if condition.get("type") == "monitor" and self.has_monitor is not None \
                and not self.has_monitor(workspace_id, UUID(condition["monitor_id"])):
            raise invalid("condition.monitor_id", "not a monitor of this workspace")

    @retry_on_conflict
    def create_alert(self, workspace_id: UUID, *, name: str, condition: object,
                     channels: object, cooldown_seconds: object, actor: Actor,
                     description: object = None) -> Alert:
        """A new rule, entered in the workspace's book in the same save (so the cap is exact)."""
        alert = Alert.create(alert_id=new_id(), workspace_id=workspace_id, name=name,
                             condition=condition, channels=with_ids(channels),
                             cooldown_seconds=cooldown_seconds, actor=actor, at=self.clock(),
                             description=description)
        self.check_channels(alert)
        self.check_watched(workspace_id, alert.condition)
        book = self.book(workspace_id)
        book.enter(alert.id, limit=self.rule_limit)
        self.save(alert, book)
        return alert

    def get_alert(self, workspace_id: UUID | None, alert_id: UUID,
                  version: int | None = None) -> Alert:
        """An alert of the workspace (any workspace's when None); a deleted one is not found."""
        alert: Alert = self.load(alert_id, AlertNotFoundError, "alert", version,
                                 workspace_id=workspace_id, kind=Alert)
        if alert.deleted and workspace_id is not None:
            raise AlertNotFoundError("alert not found")
        return alert

    def alerts(self, workspace_id: UUID, alert_ids: list[str],
               state: str | None = None) -> list[Alert]:
        """These alerts of the workspace, in this order, leaving out any deleted since the list
        of ids was read (a read model a moment behind the log), and any no longer in `state`."""
        found = []
        for alert_id in alert_ids:
            try:
                alert = self.get_alert(workspace_id, UUID(alert_id))
            except AlertNotFoundError:
                continue
            if state is None or alert.state == state:
                found.append(alert)
        return found

    @retry_on_conflict
    def change_alert(self, workspace_id: UUID, alert_id: UUID, *, actor: Actor,
                     expected_version: int | None, **given: Any) -> Alert:
        alert = self.get_alert(workspace_id, alert_id)
        check_version("alert", alert.version, expected_version)
        if "channels" in given:
            given["channels"] = with_ids(given["channels"], kept=alert.channels)
        alert.change(actor=actor, at=self.clock(), **given)
        if "channels" in given:
            self.check_channels(alert)
        if "condition" in given:
            self.check_watched(workspace_id, alert.condition)
        self.save(alert)
        return alert

    @retry_on_conflict
    def mute_alert(self, workspace_id: UUID, alert_id: UUID, *, until: datetime | None,
                   actor: Actor) -> Alert:
        alert = self.get_alert(workspace_id, alert_id)
        alert.mute(until=until, actor=actor, at=self.clock())
        self.save(alert)
        return alert

    @retry_on_conflict
    def test_channels(self, workspace_id: UUID, alert_id: UUID, *,
                      actor: Actor) -> tuple[Alert, list[str]]:
        """Send each channel of a rule an `alert.test` message through the outbox; the rule and
        the channel ids told (their deliveries are the rule's at its new version)."""
        alert = self.get_alert(workspace_id, alert_id)
        channels = alert.test_channels(actor=actor, at=self.clock())
        self.save(alert)
        return alert, channels

    @retry_on_conflict
    def delete_alert(self, workspace_id: UUID, alert_id: UUID, *, actor: Actor) -> None:
        alert = self.get_alert(workspace_id, alert_id)
        alert.delete(actor=actor, at=self.clock())
        book = self.book(workspace_id)
        book.strike(alert.id)
        self.save(alert, book)

    def alert_history(self, workspace_id: UUID, alert_id: UUID, *, limit: int | None = None,
                      after: int | None = None, newest_first: bool = False
                      ) -> list[dict[str, Any]]:
        """A rule's state changes (ok, firing, resolved; see `state_change`), oldest first or
        newest first, those past the entry of version `after` in that order, at most `limit`
        (all, without). Read from the rule's events a chunk at a time, so a page of a rule that
        has flapped for months reads about the page's worth of them."""
        self.get_alert(workspace_id, alert_id)
        found: list[dict[str, Any]] = []
        while limit is None or len(found) < limit:
            below = after - 1 if newest_first and after is not None else None
            size = HISTORY_CHUNK if limit is None else min(HISTORY_CHUNK, limit - len(found) + 8)
            chunk = list(self.events.get(alert_id, gt=None if newest_first else after, lte=below,
                                         desc=newest_first, limit=size))
            found.extend(state_change(e) for e in chunk if is_state_change(e))
            if len(chunk) < size:
                break
            after = chunk[-1].originator_version
        return found[:limit]

    @retry_on_conflict
    def observe(self, alert_id: UUID, observations: Sequence[Observation], *,
                maintenance: bool = False) -> int:
        """Evaluate a rule on the values seen at these instants, in order; saves (and so
        notifies) only state changes, all in one save. Returns how many were recorded."""
        alert = self.get_alert(None, alert_id)
        changes = sum(alert.observe(value, at=at, maintenance=maintenance, cause=cause)
                      for at, value, cause in observations)
        if changes:
            self.save(alert)
        return changes


class DashboardLinks:
    """Where the dashboard shows a rule and what made it fire, for whoever reads its webhook;
    none without `BEACON_PUBLIC_URL` (a worker has no request to take an address from)."""

    def __init__(self, public_url: str, slug_of: Callable[[UUID], str | None]):
        self.public_url = public_url
        self.slug_of = slug_of

    def __call__(self, alert: Alert) -> dict[str, str] | None:
        slug = self.slug_of(alert.workspace_id) if self.public_url else None
        if slug is None:
            return None
        app = f"{self.public_url}/app/{slug}"
        links = {"alert": f"{app}/alerts?alert={alert.id}"}
        cause = alert.cause or {}
        if cause.get("monitor"):
            links["cause"] = f"{app}/monitors/{cause['monitor']['id']}"
        elif cause.get("groups"):
            links["cause"] = f"{app}/exceptions?group={quote(cause['groups'][0]['fingerprint'])}"
        elif alert.condition.get("type") == "monitor":
            links["cause"] = f"{app}/monitors/{alert.condition['monitor_id']}"
        return links


class AlertChannels:
    """Alert webhooks go to the rule's channels and carry the rule as it fired or resolved."""

    def __init__(self, alerts: AlertsApplication,
                 links: Callable[[Alert], dict[str, str] | None] = lambda _: None):
        self.alerts = alerts
        self.links = links

    def recipient(self, key: DeliveryKey) -> Recipient | None:
        try:
            alert = self.alerts.get_alert(None, UUID(key.incident_id))
        except NotFoundError:
            return None
        channel = alert.channel(key.subscriber_id)
        return None if alert.deleted or channel is None else Recipient(channel["url"],
                                                                       channel["secret"])

    def subject(self, key: DeliveryKey, delivery: dict[str, Any]) -> dict[str, Any]:
        alert = self.alerts.get_alert(None, UUID(key.incident_id), key.version)
        return {"alert": {"id": str(alert.id), "name": alert.name,
                          "description": alert.description, "condition": alert.condition,
                          "state": alert.state, "state_since": iso(alert.state_since)},
                "value": delivery["changes"]["value"], "cause": alert.cause,
                "test": delivery["event_type"] == "alert.test", "links": self.links(alert)}
