"""Alert rules: firing and resolving off the log and the clock, cooldown, mute, restarts, preview
and tenancy, through the HTTP API with a real webhook receiver."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from application import alert_evaluation
from application import alerts as alerts_application
from domain.time import iso
from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon, bootstrap
from interfaces.rest.representations import encode_cursor, encode_version
from tests.conftest import FakeClock, Tenant, client_of, make_tenant, settle
from tests.receiver import Receiver

SECRET = "alert-secret-0123456789"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def threshold(op: str = ">", value: float = 2, **extra: Any) -> dict[str, Any]:
    return {"type": "threshold", "event": "checkout_failed", "metric": "count",
            "window_seconds": 60, "op": op, "value": value, **extra}


def create(client: TestClient, tenant: Tenant, url: str, cooldown: int = 0,
           **condition: Any) -> dict[str, Any]:
    response = client.post("/api/v1/alerts", headers=tenant.headers("write"), json={
        "name": "Checkouts failing", "condition": threshold(**condition),
        "channels": [{"type": "webhook", "url": url, "secret": SECRET}],
        "cooldown_seconds": cooldown})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def track(client: TestClient, tenant: Tenant, clock: FakeClock, count: int,
          name: str = "checkout_failed", **properties: str) -> None:
    response = client.post("/v1/events", headers=tenant.headers("ingest"), json=[
        {"event_id": str(uuid.uuid4()), "category": "shop", "name": name,
         "timestamp": iso(clock()), "actor_id": f"user-{n}", "properties": properties}
        for n in range(count)])
    assert response.status_code == 200, response.text


def evaluate(beacon: Beacon) -> None:
    """What the worker does within seconds: project, evaluate, deliver (here, in this thread).
    Evaluation judges what was received up to now once it has settled
    (`BEACON_ALERT_SETTLE_SECONDS` later): the clock stands that much later while it runs."""
    settle(beacon)
    clock, wait = beacon.alert_evaluation.clock, beacon.alert_evaluation.settle
    assert isinstance(clock, FakeClock)
    clock.advance(seconds=wait.total_seconds())
    try:
        beacon.jobs.evaluate_alerts()
    finally:
        clock.advance(seconds=-wait.total_seconds())
    settle(beacon)
    beacon.alert_webhooks.sweep(beacon.alert_webhooks.deliver)


def history(client: TestClient, tenant: Tenant, alert_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/alerts/{alert_id}/history", headers=tenant.headers("read"))
    assert response.status_code == 200, response.text
    return [change(e) for e in response.json()["data"]]


def change(entry: dict[str, Any]) -> dict[str, Any]:
    """A history entry or a preview's change as the tests compare them: state, at, value, and
    the cause where there is one."""
    shown = {k: entry[k] for k in ("state", "at", "value")}
    return shown if entry["cause"] is None else {**shown, "cause": entry["cause"]}


def test_a_crossing_fires_once_and_resolving_is_told_both_signed(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    alert = create(clocked_client, tenant_on_clock, receiver.url)
    evaluate(clocked_beacon)
    clock.advance(seconds=5)
    track(clocked_client, tenant_on_clock, clock, 3)
    evaluate(clocked_beacon)
    evaluate(clocked_beacon)  # evaluating again fires nothing again
    clock.advance(seconds=65)  # 12:01:10: the events have left the window
    evaluate(clocked_beacon)

    assert history(clocked_client, tenant_on_clock, alert["id"]) == [
        {"state": "ok", "at": "2026-04-04T12:00:00.000000Z", "value": None},
        {"state": "firing", "at": "2026-04-04T12:00:05.000000Z", "value": 3.0},
        {"state": "resolved", "at": "2026-04-04T12:01:10.000000Z", "value": 0.0}]
    assert [r.json["type"] for r in receiver.received] == ["alert.fired", "alert.resolved"]
    assert all(r.signed_with(SECRET) for r in receiver.received)
    fired = receiver.received[0]
    assert fired.headers["x-beacon-delivery"] == fired.json["id"]
    assert fired.json["alert"]["id"] == alert["id"] and fired.json["value"] == 3.0
    assert fired.json["links"] is None  # no BEACON_PUBLIC_URL: nowhere to link to


def test_other_events_and_filtered_out_properties_do_not_count(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    alert = create(clocked_client, tenant_on_clock, receiver.url,
                   filters=[{"key": "plan", "op": "eq", "value": "pro"}])
    track(clocked_client, tenant_on_clock, clock, 5, plan="free")
    track(clocked_client, tenant_on_clock, clock, 5, name="checkout_done", plan="pro")
    evaluate(clocked_beacon)
    assert [e["state"] for e in history(clocked_client, tenant_on_clock, alert["id"])] == ["ok"]
    track(clocked_client, tenant_on_clock, clock, 3, plan="pro")
    evaluate(clocked_beacon)
    assert [e["state"] for e in history(clocked_client, tenant_on_clock, alert["id"])] == [
        "ok", "firing"]


def test_a_repeat_inside_the_cooldown_is_recorded_but_tells_no_one(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    alert = create(clocked_client, tenant_on_clock, receiver.url, cooldown=600)
    for _ in range(2):
        track(clocked_client, tenant_on_clock, clock, 3)
        evaluate(clocked_beacon)
        clock.advance(seconds=70)
        evaluate(clocked_beacon)
    response = clocked_client.get(f"/api/v1/alerts/{alert['id']}/history",
                                  headers=tenant_on_clock.headers("read"))
    firings = [e for e in response.json()["data"] if e["state"] == "firing"]
    assert [f["suppressed"] for f in firings] == [None, "cooldown"]
    assert [r.json["type"] for r in receiver.received] == ["alert.fired", "alert.resolved"]


def test_a_muted_alert_changes_state_but_tells_no_one_until_the_mute_ends(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    alert = create(clocked_client, tenant_on_clock, receiver.url)
    response = clocked_client.post(f"/api/v1/alerts/{alert['id']}/mute",
                                   json={"until": "2026-04-04T12:02:00Z"},
                                   headers=tenant_on_clock.headers("write"))
    assert response.status_code == 200 and response.json()["data"]["muted_until"]
    track(clocked_client, tenant_on_clock, clock, 3)
    evaluate(clocked_beacon)
    clock.advance(seconds=70)
    evaluate(clocked_beacon)
    assert receiver.received == []
    clock.advance(seconds=60)  # 12:02:10, the mute is over
    track(clocked_client, tenant_on_clock, clock, 3)
    evaluate(clocked_beacon)
    assert [r.json["type"] for r in receiver.received] == ["alert.fired"]
    states = [e["state"] for e in history(clocked_client, tenant_on_clock, alert["id"])]
    assert states == ["ok", "firing", "resolved", "firing"]


def test_fewer_than_n_fires_on_silence_without_any_event(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    track(clocked_client, tenant_on_clock, clock, 2)
    alert = create(clocked_client, tenant_on_clock, receiver.url, op="<", value=1)
    evaluate(clocked_beacon)
    clock.advance(seconds=30)
    evaluate(clocked_beacon)
    assert receiver.received == []
    clock.advance(seconds=40)  # 12:01:10: a minute without checkout_failed since 12:01:00
    evaluate(clocked_beacon)
    assert history(clocked_client, tenant_on_clock, alert["id"])[-1] == {
        "state": "firing", "at": "2026-04-04T12:01:00.000000Z", "value": 0.0}
    assert [r.json["type"] for r in receiver.received] == ["alert.fired"]


def test_unique_actors_at_least_n_over_a_day_counts_people_not_events(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    alert = create(clocked_client, tenant_on_clock, receiver.url, op=">=", value=2,
                   metric="unique_actors", window_seconds=86_400)
    for _ in range(3):  # one person failing three times is one actor
        track(clocked_client, tenant_on_clock, clock, 1)
        clock.advance(hours=2)
        evaluate(clocked_beacon)
    assert [e["state"] for e in history(clocked_client, tenant_on_clock, alert["id"])] == ["ok"]
    response = clocked_client.post("/v1/events", headers=tenant_on_clock.headers("ingest"), json=[
        {"event_id": str(uuid.uuid4()), "category": "shop", "name": "checkout_failed",
         "timestamp": iso(clock()), "actor_id": "someone-else"}])  # 18:00: a second person
    assert response.status_code == 200, response.text
    evaluate(clocked_beacon)
    clock.advance(hours=12)  # 06:00 next day: user-0's failures (12:00-16:00) still in the day
    evaluate(clocked_beacon)
    clock.advance(hours=12)  # 18:00 next day: only the second person's left the day before
    evaluate(clocked_beacon)
    assert history(clocked_client, tenant_on_clock, alert["id"])[1:] == [
        {"state": "firing", "at": "2026-04-04T18:00:00.000000Z", "value": 2.0},
        {"state": "resolved", "at": "2026-04-05T16:00:00.000000Z", "value": 1.0}]
    assert [r.json["type"] for r in receiver.received] == ["alert.fired", "alert.resolved"]


def test_at_most_n_fires_at_or_under_the_value_and_resolves_above_it(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    alert = create(clocked_client, tenant_on_clock, receiver.url, op="<=", value=1)
    evaluate(clocked_beacon)  # 0 <= 1: firing from the start
    clock.advance(seconds=5)
    track(clocked_client, tenant_on_clock, clock, 1)  # 1 <= 1: still firing
    evaluate(clocked_beacon)
    clock.advance(seconds=5)
    track(clocked_client, tenant_on_clock, clock, 1)  # 2: resolved
    evaluate(clocked_beacon)
    assert history(clocked_client, tenant_on_clock, alert["id"])[1:] == [
        {"state": "firing", "at": "2026-04-04T12:00:00.000000Z", "value": 0.0},
        {"state": "resolved", "at": "2026-04-04T12:00:10.000000Z", "value": 2.0}]


def test_preview_answers_what_live_evaluation_did_on_the_same_history(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    alert = create(clocked_client, tenant_on_clock, receiver.url)
    evaluate(clocked_beacon)
    for gap in (5, 20, 90, 3, 200):
        clock.advance(seconds=gap)
        track(clocked_client, tenant_on_clock, clock, 2)
        evaluate(clocked_beacon)
    clock.advance(seconds=120)
    evaluate(clocked_beacon)
    sent = len(receiver.received)

    response = clocked_client.post("/api/v1/alerts/preview", headers=tenant_on_clock.headers("read"),
                                   json={"condition": threshold(), "from": "2026-04-04T12:00:00Z",
                                         "to": iso(clock())})
    assert response.status_code == 200, response.text
    live = history(clocked_client, tenant_on_clock, alert["id"])[1:]
    assert len(live) >= 4 and [change(c) for c in response.json()["data"]["changes"]] == live
    assert len(receiver.received) == sent  # a preview tells no one


def test_a_preview_too_long_to_evaluate_says_how_far_it_could_go(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """A preview evaluates at the grid's instants and at every arrival of the rule's event, so
    how long a range fits depends on the event: the refusal names the `to` that would fit."""
    monkeypatch.setattr(alert_evaluation, "MAX_PREVIEW_INSTANTS", 12)
    for _ in range(6):  # six arrivals 3 s apart, between the first minute's 10 s grid instants
        clock.advance(seconds=3)
        track(clocked_client, tenant_on_clock, clock, 1)
    settle(clocked_beacon)
    read = tenant_on_clock.headers("read")

    def preview(to: str) -> Any:
        return clocked_client.post("/api/v1/alerts/preview", headers=read, json={
            "condition": threshold(), "from": "2026-04-04T12:00:00Z", "to": to})

    refused = preview("2026-04-04T12:05:00Z")  # 31 grid instants alone
    assert refused.status_code == 422, refused.text
    (detail,) = refused.json()["error"]["details"]
    # 12:00:00, 03, 06, 09, 10 (the grid), 12, 15, 18, 20, 30, 40, 50: the twelfth.
    assert detail["field"] == "to" and "up to 2026-04-04T12:00:50.000000Z" in detail["message"]
    assert preview("2026-04-04T12:00:50Z").status_code == 200
    assert preview("2026-04-04T12:01:00Z").status_code == 422


def test_a_restart_neither_fires_twice_nor_misses_a_crossing(
        settings: Settings, clock: FakeClock, receiver: Receiver) -> None:
    settings = settings.model_copy(update={"allow_private_webhooks": True})
    with closing(bootstrap(settings, clock=clock)) as first:
        client = next(client_of(first))
        tenant = make_tenant(client)
        alert = create(client, tenant, receiver.url)
        evaluate(first)
        track(client, tenant, clock, 3)  # accepted, not evaluated yet: the process stops
        settle(first)
    with closing(bootstrap(settings, clock=clock)) as second:
        evaluate(second)
        second.alert_evaluation.positions.put("telemetry", 0)  # as if it died before keeping it
        evaluate(second)
    with closing(bootstrap(settings, clock=clock)) as third:
        evaluate(third)
        client = next(client_of(third))
        assert [e["state"] for e in history(client, tenant, alert["id"])] == ["ok", "firing"]
    assert [r.json["type"] for r in receiver.received] == ["alert.fired"]


def test_a_run_that_cannot_keep_its_grid_instant_keeps_none_of_its_positions(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    """A run keeps where it got to in each log and on the grid all together: a crash between
    them would have it judge, next time, grid instants again on logs read past them."""
    alert = create(clocked_client, tenant_on_clock, receiver.url)
    evaluate(clocked_beacon)
    positions = clocked_beacon.alert_evaluation.positions
    db = positions.db  # type: ignore[attr-defined]
    kept = {name: positions.get(name) for name in ("telemetry", "tick")}
    assert None not in kept.values()
    refuse_tick = {  # the database refuses the grid instant, as a crash would lose it
        "sqlite": ["CREATE TRIGGER refuse_tick BEFORE UPDATE ON alert_evaluation_positions "
                   "WHEN NEW.name = 'tick' BEGIN SELECT RAISE(ABORT, 'refused'); END"],
        "postgres": ["CREATE FUNCTION refuse_tick() RETURNS trigger LANGUAGE plpgsql AS $$ "
                     "BEGIN RAISE EXCEPTION 'refused'; END $$",
                     "CREATE TRIGGER refuse_tick BEFORE UPDATE ON alert_evaluation_positions "
                     "FOR EACH ROW WHEN (NEW.name = 'tick') EXECUTE FUNCTION refuse_tick()"]}
    with db.transaction() as cur:
        for statement in refuse_tick[db.dialect]:
            cur.execute(statement)
    track(clocked_client, tenant_on_clock, clock, 3)
    clock.advance(seconds=20)  # past grid instants too
    with pytest.raises(Exception, match="refused"):
        evaluate(clocked_beacon)
    assert {name: positions.get(name) for name in kept} == kept
    with db.transaction() as cur:
        cur.execute("DROP TRIGGER refuse_tick" + (" ON alert_evaluation_positions"
                                                  if db.dialect == "postgres" else ""))
    evaluate(clocked_beacon)
    assert positions.get("telemetry") > kept["telemetry"] and positions.get("tick") > kept["tick"]
    assert [e["state"] for e in history(clocked_client, tenant_on_clock, alert["id"])] == [
        "ok", "firing"]
    assert [r.json["type"] for r in receiver.received] == ["alert.fired"]


def test_a_flapping_rule_loads_from_its_snapshot_as_it_was_and_keeps_its_whole_history(
        settings: Settings, clock: FakeClock, receiver: Receiver) -> None:
    """Every state change is an event: a rule that flapped thousands of times would be replayed
    whole by every process that had not cached it. Snapshots (every 200 events) bound that; what
    loads from one is what replaying every event gives, and the history still lists them all."""
    settings = settings.model_copy(update={"allow_private_webhooks": True})
    with closing(bootstrap(settings, clock=clock)) as first:
        client = next(client_of(first))
        tenant = make_tenant(client)
        rule = create(client, tenant, receiver.url, cooldown=3600)
        alert_id = UUID(rule["id"])
        client.post(f"/api/v1/alerts/{rule['id']}/mute", headers=tenant.headers("write"),
                    json={"until": "2027-01-01T00:00:00Z"})
        for flip in range(450):
            clock.advance(seconds=10)
            first.alerts.observe(alert_id, [(clock(), 5.0 if flip % 2 == 0 else 0.0, lambda: None)])
    with closing(bootstrap(settings, clock=clock)) as second:  # nothing cached
        snapshots = list(second.alerts.snapshots.get(alert_id))  # type: ignore[union-attr]
        assert snapshots and snapshots[-1].originator_version == 400
        loaded = second.alerts.get_alert(None, alert_id)
        replayed = None
        for event in second.alerts.events.get(alert_id):
            replayed = event.mutate(replayed)
        assert loaded.version == replayed.version == 452  # created, muted, 450 state changes
        assert vars(loaded) == vars(replayed)
        client = next(client_of(second))
        oldest_first = every_page(client, tenant, rule["id"], order="oldest", limit=100)
        assert [e["version"] for e in oldest_first] == [1, *range(3, 453)]  # not the mute (2)
        assert every_page(client, tenant, rule["id"], order="newest", limit=100) == (
            oldest_first[::-1])


def every_page(client: TestClient, tenant: Tenant, alert_id: str, **params: Any
               ) -> list[dict[str, Any]]:
    """A rule's history, a page at a time, following `next_cursor` while `has_more`."""
    entries: list[dict[str, Any]] = []
    while True:
        response = client.get(f"/api/v1/alerts/{alert_id}/history", params=params,
                              headers=tenant.headers("read"))
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["data"]) <= params.get("limit", 100)
        entries += page["data"]
        if not page["has_more"]:
            assert "next_cursor" not in page
            return entries
        params["cursor"] = page["next_cursor"]


def test_a_rules_history_pages_either_way_over_rest_and_graphql(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule that has flapped for months has thousands of state changes: its history comes a
    page at a time, oldest or newest first, whatever else (mutes) lies between them, read from
    its events a chunk at a time (small chunks here, so pages end inside and across them)."""
    monkeypatch.setattr(alerts_application, "HISTORY_CHUNK", 4)
    rule = create(clocked_client, tenant_on_clock, receiver.url)
    for flip in range(12):
        clock.advance(seconds=10)
        if flip % 3 == 0:  # an event that is no state change, between state changes
            clocked_client.post(f"/api/v1/alerts/{rule['id']}/mute",
                                headers=tenant_on_clock.headers("write"),
                                json={"until": iso(clock() + timedelta(seconds=5))})
        clocked_beacon.alerts.observe(UUID(rule["id"]), [
            (clock(), 5.0 if flip % 2 == 0 else 0.0, lambda: None)])
    whole = every_page(clocked_client, tenant_on_clock, rule["id"], limit=1000)
    assert [e["state"] for e in whole] == ["ok", *["firing", "resolved"] * 6]
    assert [e["value"] for e in whole[1:3]] == [5.0, 0.0]
    for limit in (1, 2, 3, 5, 13):
        assert every_page(clocked_client, tenant_on_clock, rule["id"], limit=limit) == whole
        assert every_page(clocked_client, tenant_on_clock, rule["id"], limit=limit,
                          order="newest") == whole[::-1]
    first = clocked_client.get(f"/api/v1/alerts/{rule['id']}/history?limit=5",
                               headers=tenant_on_clock.headers("read")).json()
    assert first["data"] == whole[:5] and first["has_more"] is True

    query = ("query($id: ID!, $after: Int) { alert(id: $id) { "
             "history(first: 4, afterVersion: $after, newestFirst: true) { version state } } }")
    read = []
    after = None
    while True:
        page = clocked_client.post("/graphql", headers=tenant_on_clock.headers("read"), json={
            "query": query, "variables": {"id": rule["id"], "after": after}}).json()
        entries = page["data"]["alert"]["history"]
        read += entries
        if len(entries) < 4:
            break
        after = entries[-1]["version"]
    assert read == [{"version": e["version"], "state": e["state"]} for e in whole[::-1]]

    for params in ({"limit": 0}, {"limit": 1001}, {"order": "sideways"}):
        assert clocked_client.get(f"/api/v1/alerts/{rule['id']}/history", params=params,
                                  headers=tenant_on_clock.headers("read")).status_code == 422
    for cursor in ("nonsense", encode_cursor(0, rule["id"]), encode_version(2**63),
                   encode_version(10**25)):
        bad = clocked_client.get(f"/api/v1/alerts/{rule['id']}/history",
                                 params={"cursor": cursor}, headers=tenant_on_clock.headers("read"))
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"
    too_many = clocked_client.post("/graphql", headers=tenant_on_clock.headers("read"), json={
        "query": "query($id: ID!) { alert(id: $id) { history(first: 1001) { version } } }",
        "variables": {"id": rule["id"]}}).json()
    assert "first must be between 1 and 1000" in too_many["errors"][0]["message"]


def test_alerts_are_listed_read_changed_with_if_match_and_deleted(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    first = create(clocked_client, tenant_on_clock, receiver.url)
    assert first["channels"][0]["secret"] == SECRET
    clock.advance(seconds=1)
    second = create(clocked_client, tenant_on_clock, receiver.url)
    settle(clocked_beacon)
    read, write = tenant_on_clock.headers("read"), tenant_on_clock.headers("write")
    page = clocked_client.get("/api/v1/alerts?limit=1", headers=read).json()
    assert [a["id"] for a in page["data"]] == [first["id"]] and page["has_more"]
    rest = clocked_client.get(f"/api/v1/alerts?limit=1&cursor={page['next_cursor']}",
                              headers=read).json()
    assert [a["id"] for a in rest["data"]] == [second["id"]] and not rest["has_more"]
    got = clocked_client.get(f"/api/v1/alerts/{first['id']}", headers=read)
    assert "secret" not in got.json()["data"]["channels"][0]
    stale = clocked_client.patch(f"/api/v1/alerts/{first['id']}", json={"name": "Renamed"},
                                 headers={**write, "If-Match": '"7"'})
    assert stale.status_code == 412
    renamed = clocked_client.patch(f"/api/v1/alerts/{first['id']}", json={"name": "Renamed"},
                                   headers={**write, "If-Match": got.headers["ETag"]})
    assert renamed.status_code == 200 and renamed.json()["data"]["name"] == "Renamed"
    assert clocked_client.delete(f"/api/v1/alerts/{first['id']}", headers=write).status_code == 204
    assert clocked_client.get(f"/api/v1/alerts/{first['id']}", headers=read).status_code == 404


def test_a_bad_condition_is_a_422_naming_the_field(clocked_client: TestClient,
                                                  tenant_on_clock: Tenant) -> None:
    response = clocked_client.post("/api/v1/alerts", headers=tenant_on_clock.headers("write"),
                                   json={"name": "x", "condition": threshold(window_seconds=5),
                                         "channels": [{"url": "https://example.com/h"}]})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "condition.window_seconds"


def test_another_workspaces_alert_is_not_found(clocked_client: TestClient, tenant_on_clock: Tenant,
                                               receiver: Receiver) -> None:
    alert = create(clocked_client, tenant_on_clock, receiver.url)
    other = make_tenant(clocked_client, name="Other", slug="other-co")
    for method, path, body in (("GET", "", None), ("GET", "/history", None),
                               ("PATCH", "", {"name": "Mine now"}), ("DELETE", "", None),
                               ("POST", "/mute", {"until": None}), ("POST", "/test", None),
                               ("GET", "/deliveries", None)):
        response = clocked_client.request(method, f"/api/v1/alerts/{alert['id']}{path}",
                                          headers=other.headers("write"), json=body)
        assert response.status_code == 404, (method, path, response.text)
    listed = clocked_client.get("/api/v1/alerts", headers=other.headers("read")).json()
    assert listed["data"] == []


def test_graphql_reads_alerts_with_their_history_and_not_another_workspaces(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    alert = create(clocked_client, tenant_on_clock, receiver.url)
    track(clocked_client, tenant_on_clock, clock, 3)
    evaluate(clocked_beacon)
    query = ("query($id: ID!) { alert(id: $id) { name state condition channels { url } "
             "history { state value notified } } alerts(first: 5) { edges { node { id } } "
             "pageInfo { hasNextPage } } }")
    body = {"query": query, "variables": {"id": alert["id"]}}
    mine = clocked_client.post("/graphql", json=body, headers=tenant_on_clock.headers("read"))
    data = mine.json()["data"]
    assert data["alert"]["state"] == "firing" and data["alert"]["condition"]["op"] == ">"
    assert [(h["state"], h["value"]) for h in data["alert"]["history"]] == [
        ("ok", None), ("firing", 3.0)]
    assert data["alert"]["channels"] == [{"url": receiver.url}]
    assert [e["node"]["id"] for e in data["alerts"]["edges"]] == [alert["id"]]
    other = make_tenant(clocked_client, name="Other", slug="other-co")
    theirs = clocked_client.post("/graphql", json=body, headers=other.headers("read")).json()
    assert theirs["data"]["alert"] is None and theirs["data"]["alerts"]["edges"] == []


def test_rules_are_listed_by_state_over_rest_and_graphql(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    firing = create(clocked_client, tenant_on_clock, receiver.url)
    quiet = create(clocked_client, tenant_on_clock, receiver.url, value=100)
    track(clocked_client, tenant_on_clock, clock, 3)
    evaluate(clocked_beacon)
    read = tenant_on_clock.headers("read")
    for state, expected in (("firing", firing), ("ok", quiet)):
        listed = clocked_client.get("/api/v1/alerts", params={"state": state}, headers=read)
        assert listed.status_code == 200, listed.text
        assert [a["id"] for a in listed.json()["data"]] == [expected["id"]]
        assert listed.json()["total"] == 1
    every = clocked_client.get("/api/v1/alerts", headers=read).json()
    assert every["total"] == 2
    wrong = clocked_client.get("/api/v1/alerts", params={"state": "resolved"}, headers=read)
    assert wrong.status_code == 422 and wrong.json()["error"]["details"][0]["field"] == "state"
    query = "{ alerts(state: FIRING) { totalCount edges { node { id state } } } }"
    data = clocked_client.post("/graphql", json={"query": query}, headers=read).json()["data"]
    assert data["alerts"]["totalCount"] == 1
    assert data["alerts"]["edges"] == [{"node": {"id": firing["id"], "state": "firing"}}]


def test_a_rules_description_is_kept_changed_cleared_and_sent_with_its_webhooks(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    write = tenant_on_clock.headers("write")
    made = clocked_client.post("/api/v1/alerts", headers=write, json={
        "name": "Checkouts failing", "condition": threshold(), "cooldown_seconds": 0,
        "description": "  Payments are failing: check the provider's status page first.  ",
        "channels": [{"type": "webhook", "url": receiver.url, "secret": SECRET}]})
    assert made.status_code == 201, made.text
    alert = made.json()["data"]
    assert alert["description"] == "Payments are failing: check the provider's status page first."
    track(clocked_client, tenant_on_clock, clock, 3)
    evaluate(clocked_beacon)
    [fired] = receiver.received
    assert fired.json["alert"]["description"] == alert["description"]

    url = f"/api/v1/alerts/{alert['id']}"
    changed = clocked_client.patch(url, headers=write, json={"description": "Page the on-call."})
    assert changed.status_code == 200 and changed.json()["data"]["description"] == "Page the on-call."
    too_long = clocked_client.patch(url, headers=write, json={"description": "x" * 2001})
    assert too_long.status_code == 422
    assert too_long.json()["error"]["details"][0]["field"] == "description"
    cleared = clocked_client.patch(url, headers=write, json={"description": None})
    assert cleared.status_code == 200 and cleared.json()["data"]["description"] is None
    query = "query($id: ID!) { alert(id: $id) { description } }"
    read = clocked_client.post("/graphql", headers=tenant_on_clock.headers("read"),
                               json={"query": query, "variables": {"id": alert["id"]}})
    assert read.json()["data"]["alert"] == {"description": None}
