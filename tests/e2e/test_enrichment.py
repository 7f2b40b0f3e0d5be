"""Enrichment through the real app, on SQLite and PostgreSQL: every dialect's events (and exception
reports) get a content hash, geo and device off the log; visitor ids for anonymous events; the raw
address only on opt-in; enriched dimensions in analytics; rebuilds and `beacon enrich`."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from application.enrichment import SOURCES
from domain.enrichment import EventEnrichment
from infrastructure.rollup_upgrade import REACH_FILLED, fill_enrichment_reach
from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon, bootstrap
from interfaces.cli import app as cli
from interfaces.rest.app import create_app
from tests.conftest import ADMIN, FakeClock, Tenant, make_tenant, settle
from tests.geo_databases import build_city_db

NOW = datetime(2026, 4, 4, 12, 0, tzinfo=UTC)
LONDON, PARIS, NOWHERE = "81.2.69.160", "203.0.113.5", "198.51.100.7"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Safari/537.36")
PROXY = ("10.0.0.2", 50000)  # the peer every request comes from: a trusted proxy


def cities(path: Path, london: str = "London") -> Path:
    """The test's City database, written beside and renamed into place as an operator would."""
    fresh = build_city_db(path.with_suffix(".new"), {
        "81.2.69.0/24": ("GB", "England", london), "203.0.113.0/24": ("FR", "Île-de-France", "Paris")})
    os.replace(fresh, path)
    return path


@pytest.fixture
def geo_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"geoip_db": cities(tmp_path / "cities.mmdb"),
                                       "trusted_proxies": "10.0.0.0/8"})


@pytest.fixture
def geo_beacon(geo_settings: Settings, clock: FakeClock) -> Iterator[Beacon]:
    with closing(bootstrap(geo_settings, clock=clock)) as beacon:
        yield beacon


@pytest.fixture
def web(geo_beacon: Beacon) -> Iterator[TestClient]:
    with TestClient(create_app(geo_beacon), client=PROXY) as client:
        yield client


@pytest.fixture
def acme(web: TestClient) -> Tenant:
    return make_tenant(web)


def from_browser(address: str = LONDON, agent: str = IPHONE) -> dict[str, str]:
    return {"X-Forwarded-For": address, "User-Agent": agent}


def event(name: str = "signup", **fields: Any) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "category": "product", "name": name,
            "timestamp": "2026-04-04T11:30:00Z", "actor_id": "ann", **fields}


def track(web: TestClient, tenant: Tenant, events: list[dict[str, Any]], **headers: str) -> None:
    response = web.post("/v1/events", json=events, headers=tenant.headers("ingest", **headers))
    assert response.status_code == 200, response.text


def track_anonymous(web: TestClient, tenant: Tenant, events: list[dict[str, Any]],
                    **headers: str) -> None:
    """Seed 002's dialect, the one that lets an event leave its actor out."""
    response = web.post("/api/v1/events/batch", json=events, headers=tenant.headers("ingest", **headers))
    assert response.status_code == 202 and response.json()["accepted"] == len(events), response.text


def stored(web: TestClient, tenant: Tenant, event_id: str) -> dict[str, Any]:
    response = web.get(f"/api/v1/events/{event_id}", headers=tenant.headers("read"))
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def place_and_device(enrichment: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(enrichment[k] for k in ("country", "region", "city", "browser", "os", "device_type"))


def test_every_dialect_gets_a_content_hash_geo_and_device_off_the_log(
        web: TestClient, geo_beacon: Beacon, acme: Tenant) -> None:
    sent = event(properties={"plan": "pro", "amount": 40})
    on_behalf = event(context={"ip": PARIS, "user_agent": WINDOWS})
    track(web, acme, [sent, on_behalf], **from_browser())
    one = web.post("/api/v1/events", json={k: v for k, v in event().items() if k != "event_id"},
                   headers=acme.headers("ingest", **from_browser()))
    batch = web.post("/api/v1/events/batch", json=[{k: v for k, v in event().items() if k != "event_id"}],
                     headers=acme.headers("ingest", **from_browser()))
    seed4 = web.post("/ingest", json={"event": "signup", "timestamp": "2026-04-04T11:30:00Z",
                                      "sessionId": "s1", "distinctId": "ann", "properties": {}},
                     headers={"X-API-Key": acme.keys["ingest"], **from_browser()})
    report = web.post("/v1/events/exceptions", headers=acme.headers("ingest", **from_browser()), json={
        "exception_id": "ex-1", "exception_type": "ValueError", "severity": "fatal",
        "occurred_at": "2026-04-04T11:30:00Z", "actor_id": "ann", "source_app": "web",
        "source_version": "1"})
    assert [r.status_code for r in (one, batch, seed4, report)] == [202, 202, 200, 200]
    geo_beacon.runner("events").catch_up()  # the events' read model, before the pipeline ran
    before = stored(web, acme, sent["event_id"])
    assert before["enrichment"] is None  # derived off the log, not while the request waited
    settle(geo_beacon)

    found = stored(web, acme, sent["event_id"])
    # The hash an operator computes from what the client sent (docs/decisions/enrichment-pipeline.md).
    canonical = {**{k: sent[k] for k in ("event_id", "category", "name", "actor_id", "properties")},
                 "timestamp": "2026-04-04T11:30:00.000000Z", "session_id": None, "source_app": None,
                 "source_version": None}
    digest = hashlib.sha256(json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode())
    assert found["enrichment"]["content_hash"] == digest.hexdigest()
    assert place_and_device(found["enrichment"]) == ("GB", "England", "London", "Mobile Safari",
                                                     "iOS", "mobile")
    assert place_and_device(stored(web, acme, on_behalf["event_id"])["enrichment"]) == (
        "FR", "Île-de-France", "Paris", "Chrome", "Windows", "desktop")
    others = [one.json()["data"]["event_id"], batch.json()["data"][0]["event_id"]]
    for event_id in others:
        assert stored(web, acme, event_id)["enrichment"]["city"] == "London"
    exception = web.get("/api/v1/exceptions/ex-1", headers=acme.headers("read")).json()["data"]
    assert exception["actor_id"] == "ann"
    assert exception["enrichment"]["country"] == "GB" and len(exception["enrichment"]["content_hash"]) == 64
    graph = web.post("/graphql", headers=acme.headers("read"), json={"query": """query ($id: ID!) {
        event(id: $id) { name enrichment { contentHash country city deviceType derivedWith } } }""",
                                                                     "variables": {"id": sent["event_id"]}})
    node = graph.json()["data"]["event"]
    assert node["enrichment"]["contentHash"] == digest.hexdigest()
    assert node["enrichment"]["derivedWith"]["canonical_form"] == "beacon-event-1"
    assert "GeoIP2-City" in node["enrichment"]["derivedWith"]["city"]


def test_an_event_without_an_actor_is_its_visitors_and_another_workspace_sees_nothing(
        web: TestClient, geo_beacon: Beacon, acme: Tenant) -> None:
    anonymous, again = event(actor_id=None), event(actor_id=None)
    del anonymous["actor_id"]
    track_anonymous(web, acme, [anonymous, again], **from_browser())
    settle(geo_beacon)
    first, second = stored(web, acme, anonymous["event_id"]), stored(web, acme, again["event_id"])
    assert first["actor_id"].startswith("visitor_") and first["actor_id"] == second["actor_id"]
    other = make_tenant(web, name="Other", slug="other")
    assert web.get(f"/api/v1/events/{anonymous['event_id']}",
                   headers=other.headers("read")).status_code == 404
    session = web.post("/v1/events/sessions", headers=acme.headers("ingest"), json={
        "session_id": (sid := str(uuid.uuid4())), "actor_id": "ann", "source_app": "web",
        "source_version": "1", "started_at": "2026-04-04T11:00:00Z"})
    assert session.status_code == 201
    track(web, acme, [event(session_id=sid)], **from_browser())
    settle(geo_beacon)
    timeline = web.post("/graphql", headers=acme.headers("read"), json={
        "query": "query ($id: ID!) { session(id: $id) { events { edges { node { enrichment "
                 "{ country browser } } } } } }", "variables": {"id": sid}}).json()
    nodes = [e["node"] for e in timeline["data"]["session"]["events"]["edges"]]
    assert nodes == [{"enrichment": {"country": "GB", "browser": "Mobile Safari"}}]


def test_the_seed_dialects_keep_their_actor_required(web: TestClient, geo_beacon: Beacon,
                                                     acme: Tenant) -> None:
    """Seeds 000 and 004 list actor_id and distinctId as required: no visitor id there."""
    anonymous = event()
    del anonymous["actor_id"]
    seed0 = web.post("/v1/events", json=[anonymous], headers=acme.headers("ingest", **from_browser()))
    assert seed0.status_code == 400
    assert seed0.json()["error"]["details"][0]["errors"] == [{"field": "actor_id", "message": "is required"}]
    seed4 = web.post("/ingest", json={"event": "signup", "timestamp": "2026-04-04T11:30:00Z",
                                      "sessionId": "s1", "properties": {}},
                     headers={"X-API-Key": acme.keys["ingest"], **from_browser()})
    assert seed4.status_code == 400 and seed4.json()["details"][0]["field"] == "distinctId"
    report = web.post("/v1/events/exceptions", headers=acme.headers("ingest"), json={
        "exception_id": "ex-2", "exception_type": "ValueError", "severity": "fatal",
        "occurred_at": "2026-04-04T11:30:00Z", "source_app": "web", "source_version": "1"})
    assert report.status_code == 400 and "actor_id" in report.text
    assert web.get("/api/v1/exceptions/ex-2", headers=acme.headers("read")).status_code == 404


def test_the_worker_destroys_yesterdays_salt_after_midnight_without_waiting_for_a_request(
        web: TestClient, geo_beacon: Beacon, acme: Tenant, clock: FakeClock) -> None:
    salt = todays_salt(web, acme, geo_beacon)
    salts, database = geo_beacon.visitors.salts, geo_beacon.databases["Telemetry"]
    assert geo_beacon.jobs.destroy_salts() == 0  # today's is kept
    assert salt in stored_bytes(database)
    clock.advance(days=1)  # a quiet night: nobody asks for the new day's salt
    assert geo_beacon.jobs.destroy_salts() == 1
    assert salts.days() == []  # type: ignore[attr-defined]
    assert salt not in stored_bytes(database)


def test_a_salt_the_days_first_request_deleted_is_destroyed_by_the_next_sweep(
        web: TestClient, geo_beacon: Beacon, acme: Tenant, clock: FakeClock) -> None:
    salt = todays_salt(web, acme, geo_beacon)
    salts, database = geo_beacon.visitors.salts, geo_beacon.databases["Telemetry"]
    assert geo_beacon.jobs.destroy_salts() == 0
    clock.advance(days=1)
    todays_salt(web, acme, geo_beacon)  # the day's first request deletes yesterday's
    assert salts.days() == ["2026-04-05"]  # type: ignore[attr-defined]
    assert salt in stored_bytes(database)  # but its bytes are still there
    assert geo_beacon.jobs.destroy_salts() == 0  # nothing left to delete, yet:
    assert salt not in stored_bytes(database)


def todays_salt(web: TestClient, tenant: Tenant, beacon: Beacon) -> bytes:
    """An anonymous event asks for the day's salt: the salt as stored."""
    sent = event()
    del sent["actor_id"]
    track_anonymous(web, tenant, [sent], **from_browser())
    (salt,) = beacon.visitors.salts.db.query(  # type: ignore[attr-defined]
        "SELECT salt FROM visitor_salts ORDER BY day DESC LIMIT 1")
    return str(salt["salt"]).encode()


def stored_bytes(database: Any) -> bytes:
    """Every byte the database holds of the salts: SQLite's file and its log; PostgreSQL's
    `visitor_salts` pages as they are on disk, dead rows included (pageinspect)."""
    if database.dialect == "sqlite":
        files = [Path(database.path), Path(f"{database.path}-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    with database.transaction() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pageinspect SCHEMA public")
        cur.execute("SELECT extnamespace::regnamespace::text AS schema, pg_relation_size("
                    "'visitor_salts') / current_setting('block_size')::int AS pages "
                    "FROM pg_extension WHERE extname = 'pageinspect'")
        found = cur.fetchone()
        held = b""
        for page in range(int(found["pages"])):
            cur.execute(f"SELECT {found['schema']}.get_raw_page('visitor_salts', %s) AS raw",
                        [page])
            held += bytes(cur.fetchone()["raw"])
        return held


def test_yesterdays_visitor_id_cannot_be_reproduced(web: TestClient, geo_beacon: Beacon, acme: Tenant,
                                                    clock: FakeClock) -> None:
    def visitor() -> str:
        sent = event()
        del sent["actor_id"]
        track_anonymous(web, acme, [sent], **from_browser())
        settle(geo_beacon)
        return str(stored(web, acme, sent["event_id"])["actor_id"])

    today = visitor()
    assert visitor() == today
    clock.advance(days=1)
    tomorrow = visitor()
    assert tomorrow != today
    assert geo_beacon.visitors.salts.days() == ["2026-04-05"]  # type: ignore[attr-defined]
    clock.advance(days=-1)  # back to the first day: its salt is gone, so is its id
    assert visitor() not in (today, tomorrow)


def kept_clients(beacon: Beacon) -> list[dict[str, Any]]:
    notifications = beacon.telemetry.recorder.select_notifications(start=1, limit=1000, topics=SOURCES)
    return [getattr(beacon.telemetry.mapper.to_domain_event(n), "client", None) or {}
            for n in notifications]


def test_the_raw_address_is_stored_only_when_the_workspace_opts_in(
        web: TestClient, geo_beacon: Beacon, acme: Tenant) -> None:
    track(web, acme, [event()], **from_browser())
    assert kept_clients(geo_beacon)[-1] == {"network": "81.2.69.0", "user_agent": IPHONE}
    response = web.patch(f"/admin/v1/workspaces/{acme.id}", json={"store_ip": True}, headers=ADMIN)
    assert response.status_code == 200 and response.json()["data"]["store_ip"] is True
    track(web, acme, [event()], **from_browser())
    assert kept_clients(geo_beacon)[-1]["ip"] == LONDON
    bad = web.patch(f"/admin/v1/workspaces/{acme.id}", json={"store_ip": "yes"}, headers=ADMIN)
    assert bad.status_code == 422


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(
        geo_beacon: Beacon, web: TestClient, acme: Tenant) -> None:
    with TestClient(create_app(geo_beacon), client=(NOWHERE, 50000)) as direct:
        sent = event()
        track(direct, acme, [sent], **from_browser(LONDON))
    assert kept_clients(geo_beacon)[-1]["network"] == "198.51.100.0"
    settle(geo_beacon)
    assert stored(web, acme, sent["event_id"])["enrichment"]["city"] is None


def test_ipv4_peers_of_a_dual_stack_listener_are_located_and_trusted_as_ipv4(
        geo_beacon: Beacon, web: TestClient, acme: Tenant) -> None:
    """Listening on `::`, an IPv4 peer's address arrives as ::ffff:a.b.c.d."""
    through_proxy, direct = event(), event()
    with TestClient(create_app(geo_beacon), client=("::ffff:10.0.0.2", 50000)) as proxied:
        track(proxied, acme, [through_proxy], **from_browser(LONDON))  # the proxy is trusted
    with TestClient(create_app(geo_beacon), client=(f"::ffff:{PARIS}", 50000)) as client:
        track(client, acme, [direct], **{"User-Agent": WINDOWS})
    assert [c["network"] for c in kept_clients(geo_beacon)[-2:]] == ["81.2.69.0", "203.0.113.0"]
    settle(geo_beacon)
    assert stored(web, acme, through_proxy["event_id"])["enrichment"]["city"] == "London"
    assert stored(web, acme, direct["event_id"])["enrichment"]["country"] == "FR"


BREAKDOWN = """query ($property: String!, $filters: [PropertyFilter!]) {
  breakdown(event: "signup", property: $property, from: "2026-04-01T00:00:00Z",
            to: "2026-04-05T00:00:00Z", filters: $filters) { value count } }"""


def breakdown(web: TestClient, tenant: Tenant, prop: str,
              filters: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    response = web.post("/graphql", headers=tenant.headers("read"),
                        json={"query": BREAKDOWN, "variables": {"property": prop, "filters": filters}})
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    return list(response.json()["data"]["breakdown"])


def test_enriched_fields_are_dimensions_in_graphql_and_api_query(
        web: TestClient, geo_beacon: Beacon, acme: Tenant) -> None:
    paris = {"context": {"ip": PARIS, "user_agent": WINDOWS}}
    track(web, acme, [event(), event(), event(**paris)], **from_browser())
    settle(geo_beacon)
    assert breakdown(web, acme, "$country") == [{"value": "GB", "count": 2}, {"value": "FR", "count": 1}]
    assert breakdown(web, acme, "$os", [{"key": "$device_type", "op": "EQ", "value": "desktop"}]) == \
        [{"value": "Windows", "count": 1}]
    rest = web.post("/api/query", headers=acme.headers("read"), json={
        "projectId": acme.id, "type": "breakdown", "event": "signup", "property": "$city",
        "dateRange": {"start": "2026-04-01T00:00:00Z", "end": "2026-04-05T00:00:00Z"}})
    assert rest.json()["data"] == [{"value": "London", "count": 2}, {"value": "Paris", "count": 1}]
    metric = web.post("/api/query", headers=acme.headers("read"), json={
        "projectId": acme.id, "type": "metric", "event": "signup",
        "filter": {"key": "$browser", "op": "eq", "value": "Mobile Safari"},
        "dateRange": {"start": "2026-04-01T00:00:00Z", "end": "2026-04-05T00:00:00Z"}})
    assert metric.json()["data"] == 2


def cli_environment(settings: Settings) -> dict[str, str]:
    """What a `beacon` command run beside the test's Beacon is configured with."""
    return {"BEACON_ENV": "test", "BEACON_DATA_DIR": str(settings.data_dir),
            "BEACON_DATABASE_URL": settings.database_url, "BEACON_DB_SCHEMA": settings.db_schema,
            "BEACON_GEOIP_DB": str(settings.geoip_db)}


def recorded(beacon: Beacon, kind: type) -> list[Any]:
    return beacon.telemetry.recorder.select_notifications(
        start=1, limit=100, topics=[f"{kind.__module__}:{kind.__qualname__}"])


def test_a_rebuild_answers_as_before_after_the_database_changes_and_enrich_derives_anew(
        geo_settings: Settings, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    beacon = bootstrap(geo_settings, clock=clock)
    try:
        with TestClient(create_app(beacon), client=PROXY) as web:
            acme = make_tenant(web)
            track(web, acme, [event(), event()], **from_browser())
            settle(beacon)
            assert breakdown(web, acme, "$city") == [{"value": "London", "count": 2}]
    finally:
        beacon.close()
    assert geo_settings.geoip_db is not None
    cities(geo_settings.geoip_db, london="Greenwich")  # the operator installs a newer database
    beacon = bootstrap(geo_settings, clock=clock)
    try:
        with TestClient(create_app(beacon), client=PROXY) as web:
            beacon.rebuild("enriched_events")
            assert breakdown(web, acme, "$city") == [{"value": "London", "count": 2}]
            environment = cli_environment(geo_settings)
            result = CliRunner().invoke(cli, ["enrich", "--since", "2026-04-04"], env=environment)
            assert result.exit_code == 0, result.output
            assert "derived again 1 batch" in result.output
            settle(beacon)
            assert breakdown(web, acme, "$city") == [{"value": "Greenwich", "count": 2}]
            assert len(recorded(beacon, EventEnrichment.Rederived)) == 1
            beacon.rebuild("enriched_events")  # replays both derivations: the latest stands
            assert breakdown(web, acme, "$city") == [{"value": "Greenwich", "count": 2}]
            # Nothing received since then: nothing derived again.
            later = (NOW + timedelta(days=1)).date().isoformat()
            assert "derived again 0" in CliRunner().invoke(
                cli, ["enrich", "--since", later], env=environment).output
    finally:
        beacon.close()


def test_enrich_leaves_what_the_pipeline_has_not_come_to_to_the_pipeline(
        geo_settings: Settings, clock: FakeClock) -> None:
    """The pipeline records first derivations in log order, which alert evaluation counts on
    (how far sources are enriched); `beacon enrich` re-derives only what it has come to."""
    with closing(bootstrap(geo_settings, clock=clock)) as beacon, \
            TestClient(create_app(beacon), client=PROXY) as web:
        acme = make_tenant(web)
        track(web, acme, [event()], **from_browser())
        settle(beacon)
        track(web, acme, [event()], **from_browser())  # the pipeline has not come to this one
        first, second = (n.id for n in beacon.telemetry.recorder.select_notifications(
            start=1, limit=100, topics=SOURCES))
        assert beacon.enriched.reach() == first
        result = CliRunner().invoke(cli, ["enrich", "--since", "2026-04-04"],
                                    env=cli_environment(geo_settings))
        assert result.exit_code == 0, result.output
        assert "derived again 1 batch" in result.output
        assert f"those after log position {first} are the enrichment pipeline's" in result.output
        assert len(recorded(beacon, EventEnrichment.Derived)) == 1
        settle(beacon)
        assert len(recorded(beacon, EventEnrichment.Derived)) == 2
        assert len(recorded(beacon, EventEnrichment.Rederived)) == 1
        assert beacon.enriched.reach() == second
        assert web.get(f"/api/v1/events/{event_id_at(beacon, second)}",
                       headers=acme.headers("read")).json()["data"]["enrichment"]["country"] == "GB"


def event_id_at(beacon: Beacon, position: int) -> str:
    (notification,) = beacon.telemetry.recorder.select_notifications(start=position, limit=1)
    batch: Any = beacon.telemetry.mapper.to_domain_event(notification)
    return str(json.loads(str(batch.events_json))[0]["event_id"])


def test_an_installation_older_than_the_enrichment_reach_fills_it_once_at_start_up(
        geo_settings: Settings, clock: FakeClock) -> None:
    with closing(bootstrap(geo_settings, clock=clock)) as beacon, \
            TestClient(create_app(beacon), client=PROXY) as web:
        acme = make_tenant(web)
        for _ in range(3):
            track(web, acme, [event()], **from_browser())
        settle(beacon)
        last = recorded(beacon, EventEnrichment.Derived)[-1]
        reach = beacon.enriched.reach()
        assert reach == beacon.telemetry.mapper.to_domain_event(last).source_position
        with beacon.databases["Telemetry"].transaction() as cur:  # as an earlier release left it
            cur.execute("DROP TABLE rm_enrichment_reach")
            cur.execute("DELETE FROM rm_upgrades WHERE name = %s", [REACH_FILLED])
    with closing(bootstrap(geo_settings, clock=clock)) as upgraded:
        assert upgraded.enriched.reach() == reach
        assert not fill_enrichment_reach(upgraded.databases["Telemetry"])  # done once


def test_a_page_enriched_again_after_a_crash_records_nothing_twice(
        web: TestClient, geo_beacon: Beacon, acme: Tenant) -> None:
    track(web, acme, [event()], **from_browser())
    track(web, acme, [event()], **from_browser())
    sources = geo_beacon.telemetry.recorder.select_notifications(start=1, limit=100, topics=SOURCES)
    assert geo_beacon.enricher.enrich(sources[:1]) == 1  # then the process died before tracking
    settle(geo_beacon)  # the pipeline starts again from its tracked place
    assert geo_beacon.enricher.enrich(sources) == 0
    derived = geo_beacon.telemetry.recorder.select_notifications(
        start=1, limit=100, topics=[EventEnrichment.Derived.__module__ + ":"
                                    + EventEnrichment.Derived.__qualname__])
    assert len(derived) == 2
    pipeline = geo_beacon.runner("enrichment")
    pipeline.catch_up()  # past its own events, which it reads past without enriching
    assert pipeline.status().lag == 0


def test_a_process_with_enrichment_off_runs_no_pipeline(settings: Settings) -> None:
    beacon = bootstrap(settings.model_copy(update={"enrichment": False}))
    try:
        assert "enrichment" not in [runner.name for runner in beacon.runners]
        assert "enriched_events" in [runner.name for runner in beacon.runners]
    finally:
        beacon.close()


def test_an_id_no_event_can_have_is_refused_or_not_found_never_an_error(
        web: TestClient, geo_beacon: Beacon, acme: Tenant) -> None:
    read = acme.headers("read")
    for path in ("/api/v1/events/a%00b", "/api/v1/exceptions/a%00b"):
        assert web.get(path, headers=read).status_code == 400, path  # refused at the door
    # Behind the door, the read model answers none by such an id rather than failing.
    workspace = uuid.UUID(acme.id)
    assert geo_beacon.enriched.event(workspace, "a\x00b") is None
    assert geo_beacon.enriched.exception(workspace, "a\x00b") is None
