"""Alert rules: create, read, change (If-Match), delete, mute, test, deliveries, history and
preview."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import Field

from application.alerts import alert_json, kept_channel_ids
from domain.alert import Alert
from domain.configuration import ProjectConfiguration
from domain.errors import AlertNotFoundError
from domain.ids import delivery_id
from domain.time import from_micros, micros
from interfaces.bootstrap import Beacon
from interfaces.rest import representations as wire
from interfaces.rest.admin import parse_id
from interfaces.rest.deps import BeaconDep, ConsistentRead, IfMatch, Reader, Writer, enforce
from interfaces.rest.errors import BadRequest
from interfaces.rest.representations import utc_moment
from interfaces.rest.schemas import AlertRule, Body
from interfaces.rest.subscribers import delivery_json

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
PREVIEWS_PER_MINUTE = 10  # each replays up to 10,000 instants of history
ACTIVITY_KEY = re.compile(r"[0-9a-f-]{36}/[0-9]{1,12}")  # an activity cursor's alert id / version


class AlertCreate(AlertRule):
    name: str


class AlertUpdate(Body):
    nullable: ClassVar[tuple[str, ...]] = ("description",)  # null: no description any more
    name: str | None = None
    description: str | None = None
    condition: dict[str, Any] | None = None
    channels: list[dict[str, Any]] | None = None
    cooldown_seconds: int | None = None


class AlertMute(Body):
    nullable: ClassVar[tuple[str, ...]] = ("until",)
    until: datetime | None


class AlertPreview(Body):
    condition: dict[str, Any]
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")


def alert_id_of(value: str) -> UUID:
    return parse_id(value, AlertNotFoundError, "alert")


def changeable(beacon: Beacon, who: Any, alert_id: str) -> UUID:
    """A rule the API may change or delete: one that beacon.yml owns is 409 (change it there).
    Muting stays open to the API: it is what an on-call person does at 3 a.m., not a change to
    the rule (docs/decisions/config-as-code.md)."""
    alert = beacon.alerts.get_alert(who.workspace_id, alert_id_of(alert_id))
    beacon.configuration.check_not_owned(who.workspace_id, "alerts", alert.name,
                                         f"alert rule {alert.name!r}", alert.id)
    return alert.id


def shown(beacon: Beacon, alert: Alert, *, secrets: bool = False,
          hidden: set[str] | frozenset[str] = frozenset(),
          configuration: ProjectConfiguration | None = None) -> dict[str, Any]:
    """An alert rule on the wire; `managed_by` names the beacon.yml version that owns it (null:
    the API owns it, and may change it)."""
    configuration = configuration or beacon.configuration.configuration(alert.workspace_id)
    return {**alert_json(alert, secrets=secrets, hidden=hidden),
            "managed_by": configuration.claim("alerts", alert.name, alert.id)}


def written(response: Response, alert: Alert) -> None:
    response.headers["ETag"] = wire.etag(alert.version)
    wire.mark_position(response)


@router.post("", status_code=201)
def create_alert(body: AlertCreate, who: Writer, beacon: BeaconDep, response: Response) -> dict:
    """Create an alert rule; its channels' signing secrets are shown this once."""
    alert = beacon.alerts.create_alert(
        who.workspace_id, name=body.name, condition=body.condition, channels=body.channels,
        cooldown_seconds=body.cooldown_seconds, actor=who.actor, description=body.description)
    written(response, alert)
    response.headers["Location"] = f"/api/v1/alerts/{alert.id}"
    return wire.envelope(shown(beacon, alert, secrets=True))


@router.post("/preview")
def preview_alert(body: AlertPreview, who: Reader, beacon: BeaconDep) -> dict:
    """When a condition would have fired and resolved over stored history; no one is told. A
    preview can measure up to 10,000 instants, so a workspace runs at most
    PREVIEWS_PER_MINUTE of them a minute, whatever its keys' own limits."""
    enforce(beacon, f"alert-preview:{who.workspace_id}", PREVIEWS_PER_MINUTE,
            f"at most {PREVIEWS_PER_MINUTE} alert previews a minute")
    start, end = utc_moment("from", body.start), utc_moment("to", body.end)
    assert start is not None and end is not None
    changes = beacon.alert_evaluation.preview(who.workspace_id, body.condition, start, end)
    return wire.envelope({"changes": [{**c, "at": wire.iso(c["at"])} for c in changes]})


@router.get("", dependencies=[ConsistentRead])
def list_alerts(who: Reader, beacon: BeaconDep, cursor: str | None = None,
                limit: Annotated[int, Query(ge=1, le=100)] = 25,
                state: Literal["ok", "firing"] | None = None) -> dict:
    """The workspace's alert rules (only those `ok` or `firing`, if asked), oldest first, with
    cursor pagination."""
    page = beacon.alert_queries.list_alerts(
        str(who.workspace_id), wire.decode_cursor(cursor) if cursor else None, limit, state)
    configuration = beacon.configuration.configuration(who.workspace_id)
    found = beacon.alerts.alerts(who.workspace_id, [row["id"] for row in page.items], state)
    body: dict[str, Any] = {
        "data": [shown(beacon, alert, configuration=configuration) for alert in found],
        "has_more": page.has_more, "total": page.total}
    if page.next_cursor is not None:
        body["next_cursor"] = wire.encode_cursor(*page.next_cursor)
    return body


def activity_cursor(cursor: str) -> tuple[int, str]:
    at, key = wire.decode_cursor(cursor)
    if not ACTIVITY_KEY.fullmatch(key):
        raise BadRequest("cursor is not one this API issued",
                         details=[{"field": "cursor", "message": "invalid"}])
    return at, key


def activity_window(start: datetime | None, end: datetime | None,
                    now: datetime) -> tuple[int, int | None]:
    """[from, to) in µs: from a day before `to` (or now) unless given, and with no `to`, up to
    now with this very moment included."""
    if start is None:
        before = end or now
        # A `to` in the first day of year 1 has no day before it: from the first moment there is.
        start = before - min(timedelta(days=1), before - datetime.min.replace(tzinfo=before.tzinfo))
    return micros(start), micros(end) if end else None


@router.get("/activity", dependencies=[ConsistentRead])
def alert_activity(who: Reader, beacon: BeaconDep, start: Annotated[datetime | None, Query(
                       alias="from")] = None, end: Annotated[datetime | None, Query(alias="to")] = None,
                   cursor: str | None = None,
                   limit: Annotated[int, Query(ge=1, le=100)] = 50) -> dict:
    """Every firing, late telling and resolution of the workspace's rules in [from, to) (from a
    day ago until now by default), newest first, with cursor pagination."""
    page = beacon.alert_activity.activity(
        str(who.workspace_id),
        *activity_window(utc_moment("from", start), utc_moment("to", end),
                        beacon.alerts.clock()),
        activity_cursor(cursor) if cursor else None, limit)
    body: dict[str, Any] = {"data": [{
        "alert": {"id": row["alert_id"], "name": row["name"]}, "version": row["version"],
        "state": row["state"], "at": wire.iso(from_micros(row["at"])), "value": row["value"],
        "notified": row["notified"], "suppressed": row["suppressed"], "cause": row["cause"],
    } for row in page.items], "has_more": page.has_more}
    if page.next_cursor is not None:
        body["next_cursor"] = wire.encode_cursor(*page.next_cursor)
    return body


@router.get("/{alert_id}")
def get_alert(alert_id: str, who: Reader, beacon: BeaconDep, response: Response) -> dict:
    alert = beacon.alerts.get_alert(who.workspace_id, alert_id_of(alert_id))
    response.headers["ETag"] = wire.etag(alert.version)
    return wire.envelope(shown(beacon, alert))


@router.patch("/{alert_id}")
def change_alert(alert_id: str, body: AlertUpdate, who: Writer, beacon: BeaconDep,
                 response: Response, if_match: IfMatch = None) -> dict:
    """Change name, condition, channels or cooldown; only the fields sent change. A channel
    given by its `id` is kept (secret, deliveries), with only the `url` or `secret` sent changed;
    the answer shows the secrets of the channels made or given a secret."""
    alert = beacon.alerts.change_alert(
        who.workspace_id, changeable(beacon, who, alert_id), actor=who.actor,
        expected_version=wire.parse_if_match(if_match), **body.given())
    written(response, alert)
    return wire.envelope(shown(beacon, alert, secrets="channels" in body.given(),
                               hidden=kept_channel_ids(body.channels)))


@router.delete("/{alert_id}", status_code=204)
def delete_alert(alert_id: str, who: Writer, beacon: BeaconDep, response: Response) -> None:
    beacon.alerts.delete_alert(who.workspace_id, changeable(beacon, who, alert_id), actor=who.actor)
    wire.mark_position(response)


@router.post("/{alert_id}/mute")
def mute_alert(alert_id: str, body: AlertMute, who: Writer, beacon: BeaconDep,
               response: Response) -> dict:
    """Tell no channel until `until` (null unmutes); state changes are still recorded."""
    alert = beacon.alerts.mute_alert(who.workspace_id, alert_id_of(alert_id),
                                     until=utc_moment("until", body.until), actor=who.actor)
    written(response, alert)
    return wire.envelope(shown(beacon, alert))


@router.post("/{alert_id}/test", status_code=202)
def test_alert(alert_id: str, who: Writer, beacon: BeaconDep, response: Response) -> dict:
    """Send every channel of the rule a signed `alert.test` message through the outbox (retried
    as any alert webhook); nothing fires and the rule's state is unchanged. Answers the
    deliveries, whose outcome `GET /{id}/deliveries` shows."""
    alert, channels = beacon.alerts.test_channels(who.workspace_id, alert_id_of(alert_id),
                                                  actor=who.actor)
    written(response, alert)
    return wire.envelope({"deliveries": [
        {"id": str(delivery_id(channel, str(alert.id), alert.version)), "channel_id": channel,
         "type": "alert.test", "status": "pending"} for channel in channels]})


@router.get("/{alert_id}/deliveries", dependencies=[ConsistentRead])
def alert_deliveries(alert_id: str, who: Reader, beacon: BeaconDep,
                     limit: Annotated[int, Query(ge=1, le=100)] = 20) -> dict:
    """Each channel of the rule with its latest webhooks (fired, resolved, test), newest first,
    and every attempt: status code, error, duration."""
    alert = beacon.alerts.get_alert(who.workspace_id, alert_id_of(alert_id))
    recent = beacon.alert_delivery_log.recent_of([c["id"] for c in alert.channels], limit)
    now = micros(beacon.alert_webhooks.clock())
    return wire.envelope([
        {"id": channel["id"], "url": channel["url"],
         "deliveries": [channel_delivery(row, now) for row in recent[channel["id"]]]}
        for channel in alert.channels])


def channel_delivery(row: dict[str, Any], now: int) -> dict[str, Any]:
    """One alert webhook as `delivery_json` shows a subscriber's, naming the rule's version."""
    shown = delivery_json(row, now)
    shown.pop("incident_id")
    return {**shown, "alert_version": shown.pop("incident_version")}


@router.get("/{alert_id}/history")
def alert_history(alert_id: str, who: Reader, beacon: BeaconDep, cursor: str | None = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  order: Literal["oldest", "newest"] = "oldest") -> dict:
    """The rule's state changes (ok, firing, resolved), when, and the value that caused each,
    oldest first (or newest first), with cursor pagination."""
    history = beacon.alerts.alert_history(
        who.workspace_id, alert_id_of(alert_id), limit=limit + 1,
        after=wire.decode_version(cursor), newest_first=order == "newest")
    return wire.listing(history, limit, lambda entry: {**entry, "at": wire.iso(entry["at"])},
                        lambda entry: wire.encode_version(entry["version"]))
