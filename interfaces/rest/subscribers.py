"""Subscribers API: webhook endpoints of a page, with their recent deliveries and every attempt."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import Field, StringConstraints

from application.webhooks import delivery_status
from domain.errors import SubscriberNotFoundError
from domain.ids import delivery_id
from domain.time import from_micros, micros
from infrastructure.webhook_addresses import check_public_url
from interfaces.rest.admin import parse_id
from interfaces.rest.deps import BeaconDep, ConsistentRead, Reader, Writer
from interfaces.rest.representations import envelope, iso, mark_position
from interfaces.rest.schemas import Body

router = APIRouter(prefix="/api/v1/pages/{page_slug}/subscribers", tags=["subscribers"])


class SubscriberCreate(Body):
    url: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    secret: Annotated[str, StringConstraints(min_length=16, max_length=256)] | None = None
    components: Annotated[list[UUID], Field(min_length=1, max_length=100)] | None = None
    nullable: ClassVar[tuple[str, ...]] = ("secret",)


def _at(value: int | None) -> str | None:
    return iso(from_micros(value))


def delivery_json(row: dict[str, Any], now: int) -> dict[str, Any]:
    """One delivery with its stable id, outcome so far (`delivery_status` at `now`, µs) and every
    attempt."""
    return {
        "id": str(delivery_id(row["subscriber_id"], row["incident_id"], int(row["version"]))),
        "type": row["event_type"], "incident_id": row["incident_id"],
        "incident_version": int(row["version"]), "occurred_at": _at(row["occurred_at"]),
        "status": delivery_status(row["status"], int(row["occurred_at"]), now),
        "next_attempt_at": _at(row["next_attempt_at"]),
        "attempts": [{"attempt": int(a["attempt"]), "attempted_at": _at(a["attempted_at"]),
                      "status_code": a["status_code"], "error": a["error"],
                      "duration_ms": a["duration_ms"], "outcome": a["outcome"]}
                     for a in row["attempt_log"]],
    }


@router.post("", status_code=201)
def subscribe(page_slug: str, body: SubscriberCreate, who: Writer, beacon: BeaconDep,
              response: Response) -> dict:
    """Subscribe a webhook URL to the page's incidents. The secret is shown in this response only."""
    beacon.statuspages.get_page(who.workspace_id, page_slug)
    check_public_url(body.url, beacon.settings.allow_private_webhooks)
    subscriber = beacon.statuspages.subscribe(
        who.workspace_id, page_slug, url=body.url, secret=body.secret, actor=who.actor,
        components=[str(c) for c in body.components] if body.components else None)
    mark_position(response)
    response.headers["Location"] = f"/api/v1/pages/{page_slug}/subscribers/{subscriber.id}"
    return envelope({"id": str(subscriber.id), "page_slug": page_slug, "url": subscriber.url,
                     "secret": subscriber.secret, "components": subscriber.components,
                     "created_at": iso(subscriber.created_on)})


@router.delete("/{subscriber_id}", status_code=204)
def unsubscribe(page_slug: str, subscriber_id: str, who: Writer, beacon: BeaconDep) -> Response:
    """Remove a subscriber; deliveries not yet sent to it are cancelled."""
    beacon.statuspages.unsubscribe(
        who.workspace_id, page_slug, parse_id(subscriber_id, SubscriberNotFoundError, "subscriber"),
        actor=who.actor)
    response = Response(status_code=204)
    mark_position(response)
    return response


@router.get("", dependencies=[ConsistentRead])
def list_subscribers(page_slug: str, who: Reader, beacon: BeaconDep) -> dict:
    """The page's subscribers, each with its latest deliveries and their attempts."""
    beacon.statuspages.get_page(who.workspace_id, page_slug)
    store = beacon.webhook_log
    subscribers = store.subscribers(str(who.workspace_id), page_slug)
    recent, now = store.recent_of([row["id"] for row in subscribers]), micros(beacon.webhooks.clock())
    return envelope([
        {"id": row["id"], "url": row["url"], "created_at": _at(row["created_at"]),
         "deliveries": [delivery_json(d, now) for d in recent[row["id"]]]}
        for row in subscribers])
