"""The live stream sends events with what the enrichment pipeline derived (content hash, visitor
id, geo and device), through a real server and a real HTTP client, on both backends, each with the
stream read from the log in-process and through Redis (the pipeline publishing, the API
forwarding). Filters match the enriched dimensions; resuming by Last-Event-ID keeps them."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from infrastructure.settings import Settings
from interfaces.bootstrap import bootstrap
from interfaces.rest.app import create_app
from tests.conftest import ADMIN_TOKEN, Tenant, make_tenant
from tests.e2e.conftest import serving
from tests.e2e.sse import Frame, open_stream
from tests.e2e.test_enrichment import PARIS, WINDOWS, cities, from_browser
from tests.e2e.test_graphql_subscriptions import items, subscribed
from tests.services import fresh_schema, require_postgres, require_redis

TIMESTAMP = "2026-03-20T14:30:00Z"
LONDONER = ("GB", "England", "London", "Mobile Safari", "iOS", "mobile")
PARISIAN = ("FR", "Île-de-France", "Paris", "Chrome", "Windows", "desktop")
DIMENSIONS = ("$country", "$region", "$city", "$browser", "$os", "$device_type")


@pytest.fixture(params=["in-process", "redis"])
def relay(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path, relay: str) -> Settings:
    """The test City database, the local proxy trusted, short stream intervals; Redis or not.
    No re-check within a test: only the pipeline's own word brings a message."""
    return settings.model_copy(update={
        "geoip_db": cities(tmp_path / "cities.mmdb"), "trusted_proxies": "127.0.0.0/8",
        "stream_keepalive_seconds": 0.3, "stream_key_check_seconds": 0.2,
        "stream_recheck_seconds": 3600.0,
        "stream_buffer_events": 50, "redis_url": require_redis() if relay == "redis" else ""})


def event(name: str = "page_viewed", actor_id: str | None = "ann", **fields: Any) -> dict[str, Any]:
    sent = {"event_id": str(uuid.uuid4()), "category": "web", "name": name,
            "timestamp": TIMESTAMP, "actor_id": actor_id, **fields}
    return {k: v for k, v in sent.items() if v is not None}


def track(base: str, tenant: Tenant, events: list[dict[str, Any]], **headers: str) -> None:
    """Seed 000's /v1/events: every event names its actor."""
    response = httpx.post(f"{base}/v1/events", json=events,
                          headers=tenant.headers("ingest", **headers))
    assert response.status_code == 200, response.text


def track_anonymous(base: str, tenant: Tenant, events: list[dict[str, Any]], **headers: str) -> None:
    """Seed 002's batch, whose events may leave their actor out (they get a visitor id)."""
    response = httpx.post(f"{base}/api/v1/events/batch", json=events,
                          headers=tenant.headers("ingest", **headers))
    assert response.status_code == 202, response.text


def expected_hash(sent: dict[str, Any]) -> str:
    """The content hash an operator computes from what the client sent
    (docs/decisions/enrichment-pipeline.md: canonical form beacon-event-1)."""
    canonical = {"event_id": sent["event_id"], "category": sent["category"], "name": sent["name"],
                 "actor_id": sent.get("actor_id"), "properties": sent.get("properties"),
                 "timestamp": TIMESTAMP.replace("Z", ".000000Z"), "session_id": None,
                 "source_app": None, "source_version": None}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, separators=(",", ":"))
                          .encode()).hexdigest()


def place_and_device(body: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(body[d] for d in DIMENSIONS)


def ids_of(frames: list[Frame]) -> list[str]:
    return [f.json["event_id"] for f in frames]


def test_messages_carry_the_content_hash_visitor_id_and_enriched_dimensions(
        server: str, tenant: Tenant) -> None:
    anonymous = event(actor_id=None, properties={"plan": "pro"})
    named = event(name="signed_up", context={"ip": PARIS, "user_agent": WINDOWS})
    report = {"exception_id": str(uuid.uuid4()), "exception_type": "ValueError",
              "message": "bad input", "severity": "non_fatal", "actor_id": "ann",
              "source_app": "web", "source_version": "1", "occurred_at": TIMESTAMP}
    with open_stream(server, tenant.keys["read"]) as stream:
        track_anonymous(server, tenant, [anonymous], **from_browser())
        track(server, tenant, [named], **from_browser())
        response = httpx.post(f"{server}/v1/events/exceptions", json=report,
                              headers=tenant.headers("ingest", **from_browser()))
        assert response.status_code == 200, response.text
        first, second, third = stream.messages(3)
    visitor = first.json
    assert visitor["event_id"] == anonymous["event_id"]
    assert visitor["actor_id"].startswith("visitor_") and visitor["visitor_id"] == visitor["actor_id"]
    assert visitor["content_hash"] == expected_hash(anonymous)
    assert place_and_device(visitor) == LONDONER
    assert visitor["properties"] == {"plan": "pro"} and visitor["position"] == first.id
    on_behalf = second.json  # the SDK named the browser it sends for
    assert on_behalf["actor_id"] == "ann" and "visitor_id" not in on_behalf
    assert on_behalf["content_hash"] == expected_hash(named)
    assert place_and_device(on_behalf) == PARISIAN
    assert third.event == "exception" and third.json["exception_id"] == report["exception_id"]
    assert len(third.json["content_hash"]) == 64 and third.json["$country"] == "GB"


def test_filters_match_the_enriched_dimensions(server: str, tenant: Tenant) -> None:
    londoner, parisian = event(name="checkout"), event(name="checkout")
    with open_stream(server, tenant.keys["read"], **{"property.$country": "FR"}) as in_france, \
            open_stream(server, tenant.keys["read"], **{"$browser": "Mobile Safari",
                                                       "event": "checkout"}) as on_iphones:
        track(server, tenant, [londoner], **from_browser())
        track(server, tenant, [event(name="refund")], **from_browser())
        track(server, tenant, [parisian], **from_browser(PARIS, WINDOWS))
        assert ids_of(in_france.messages(1)) == [parisian["event_id"]]
        track(server, tenant, [londoner | {"event_id": str(uuid.uuid4())}], **from_browser())
        received = on_iphones.messages(2)
    assert received[0].json["event_id"] == londoner["event_id"]
    assert [m.json["$browser"] for m in received] == ["Mobile Safari", "Mobile Safari"]


def test_a_subscription_filters_by_and_shows_the_enriched_dimensions(
        server: str, tenant: Tenant) -> None:
    query = """subscription Live($filter: EventFilter) {
      events(filter: $filter) { position kind contentHash visitorId country city browser body }
    }"""
    parisian = event()
    with subscribed(server, tenant.keys["read"], {"filter": {
            "properties": [{"key": "$country", "value": "FR"}]}}, query) as socket:
        track(server, tenant, [event()], **from_browser())
        track(server, tenant, [parisian], **from_browser(PARIS, WINDOWS))
        received = items(socket, 1)[0]
    assert received["body"]["event_id"] == parisian["event_id"]
    assert received["contentHash"] == expected_hash(parisian) and received["visitorId"] is None
    assert (received["country"], received["city"], received["browser"]) == ("FR", "Paris", "Chrome")
    assert received["body"]["$city"] == "Paris"


def test_resuming_by_last_event_id_sends_the_rest_enriched_with_no_gap_and_no_repeat(
        server: str, tenant: Tenant) -> None:
    first = [event() for _ in range(3)]
    missed = [event(actor_id=None), event()]
    later = [event()]
    with open_stream(server, tenant.keys["read"]) as stream:
        track(server, tenant, first, **from_browser())
        seen = stream.messages(2)  # the client drops after two of the three
    track_anonymous(server, tenant, missed, **from_browser(PARIS, WINDOWS))
    with open_stream(server, tenant.keys["read"], last_event_id=seen[-1].id) as stream:
        resumed = stream.messages(3)  # read back from the log, with their enrichment
        track(server, tenant, later, **from_browser())
        resumed += stream.messages(1)
    assert ids_of(seen + resumed) == [e["event_id"] for e in first + missed + later]
    assert [place_and_device(m.json) for m in resumed] == [LONDONER, PARISIAN, PARISIAN, LONDONER]
    assert resumed[1].json["visitor_id"].startswith("visitor_") and "visitor_id" not in resumed[2].json
    assert all(m.json["content_hash"] == expected_hash(sent)
               for m, sent in zip(resumed[1:], missed + later, strict=False) if sent.get("actor_id"))


def test_without_enrichment_events_stream_as_accepted_and_dimension_filters_are_refused(
        settings: Settings) -> None:
    """BEACON_ENRICHMENT=0: nothing waits for a pipeline that does not run; messages carry what
    was accepted (the visitor id is the request's, so it stays), and a filter on a dimension
    that no message carries is refused rather than left to match nothing."""
    anonymous = event(actor_id=None)
    with closing(bootstrap(settings.model_copy(update={"enrichment": False}))) as beacon:
        beacon.start_projections()
        with TestClient(create_app(beacon)) as client, serving(beacon) as server:
            tenant = make_tenant(client)
            with open_stream(server, tenant.keys["read"]) as stream:
                track_anonymous(server, tenant, [anonymous], **from_browser())
                received = stream.messages(1)[0].json
            refused = httpx.get(f"{server}/api/v1/events/stream", params={"$country": "GB"},
                                headers=tenant.headers("read"))
    assert received["event_id"] == anonymous["event_id"]
    assert received["visitor_id"] == received["actor_id"]
    assert "content_hash" not in received and not set(DIMENSIONS) & set(received)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "bad_request"
    assert "$country" in refused.text


# One projector for everything, or the enrichment pipeline in a projector of its own
# (`beacon projector --only enrichment` beside `beacon projector --skip enrichment`).
PROJECTORS = {"one projector": [{}],
              "pipeline apart": [{"skip": ["enrichment"]}, {"only": ["enrichment"]}]}


@pytest.fixture(params=list(PROJECTORS))
def production_shape(tmp_path: Path, request: pytest.FixtureRequest
                     ) -> Iterator[tuple[str, str, Tenant]]:
    """Two API processes (no projections) and the projectors, each its own Beacon, sharing a
    schema and Redis: the APIs' URLs and a workspace. Neither API re-reads the log on its own
    within the test, so only what the pipeline publishes through Redis can bring them a message."""
    url, redis_url = require_postgres(), require_redis()
    with fresh_schema() as schema, ExitStack() as stack:
        shared = {"env": "test", "admin_token": ADMIN_TOKEN, "database_url": url,
                  "db_schema": schema, "redis_url": redis_url, "trusted_proxies": "127.0.0.0/8",
                  "geoip_db": cities(tmp_path / "cities.mmdb"), "stream_recheck_seconds": 3600.0}
        urls = []
        for name in ("first", "second"):
            api = stack.enter_context(closing(bootstrap(Settings(data_dir=tmp_path / name, **shared))))
            urls.append(stack.enter_context(serving(api)))
        for n, split in enumerate(PROJECTORS[request.param]):
            projector = stack.enter_context(closing(bootstrap(Settings(
                data_dir=tmp_path / f"projector{n}", **shared))))
            projector.start_projections(**split)
        tenant = make_tenant(stack.enter_context(TestClient(create_app(api))))
        yield urls[0], urls[1], tenant


@pytest.mark.redis
def test_two_api_processes_over_redis_send_the_same_enriched_messages(
        production_shape: tuple[str, str, Tenant]) -> None:
    first, second, tenant = production_shape
    sent = [[event(), event(actor_id=None)], [event()]]
    with open_stream(second, tenant.keys["read"]) as on_second, \
            open_stream(first, tenant.keys["read"]) as on_first:
        track(first, tenant, sent[0][:1], **from_browser())
        track_anonymous(first, tenant, sent[0][1:], **from_browser(PARIS, WINDOWS))
        track(second, tenant, sent[1], **from_browser())
        received_second, received_first = on_second.messages(3), on_first.messages(3)
    assert ids_of(received_second) == [e["event_id"] for batch in sent for e in batch]
    assert [m.id for m in received_second] == [m.id for m in received_first]
    assert [m.data for m in received_second] == [m.data for m in received_first]
    assert [place_and_device(m.json) for m in received_first] == [LONDONER, PARISIAN, LONDONER]
    assert received_first[1].json["visitor_id"].startswith("visitor_")
    # The read models follow too (with the pipeline apart: its enrichment, their projector).
    assert countries_once_projected(first, tenant) == [{"value": "GB", "count": 2},
                                                       {"value": "FR", "count": 1}]


def countries_once_projected(base: str, tenant: Tenant) -> list[dict[str, Any]]:
    """`/api/query`'s breakdown of the test's events by `$country`, once it counts all three."""
    deadline = time.monotonic() + 30
    while True:
        answer = httpx.post(f"{base}/api/query", headers=tenant.headers("read"), json={
            "projectId": tenant.id, "type": "breakdown", "event": "page_viewed",
            "property": "$country",
            "dateRange": {"start": "2026-03-20T00:00:00Z", "end": "2026-03-21T00:00:00Z"}})
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()["data"]
        if sum(row["count"] for row in rows if row["value"]) == 3 or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)
