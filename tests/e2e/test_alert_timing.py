"""When alert rules are judged: never on a read model still behind the instant, once what was
received has settled, after the enrichment a rule filters on, never before the rule existed; a
firing that was muted is told once the mute is over; lists and channels as users meet them.

These Beacons run no projection threads: the tests bring each read model up by hand, so that one
can be made to lag behind the log on purpose."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from application import alert_evaluation
from domain.time import iso
from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon, bootstrap
from tests.conftest import FakeClock, Tenant, client_of, data_of, make_tenant, settle
from tests.e2e.test_alert_conditions import report
from tests.e2e.test_alerts import SECRET, change, evaluate, history, threshold, track
from tests.receiver import Receiver

LONDON = "81.2.69.160"  # GB in the country data Beacon ships
MUTE_END = datetime(2026, 4, 4, 12, 2, tzinfo=UTC)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def beacon(settings: Settings, clock: FakeClock) -> Iterator[Beacon]:
    with closing(bootstrap(settings.model_copy(update={"allow_private_webhooks": True}),
                           clock=clock)) as beacon:
        yield beacon


@pytest.fixture
def client(beacon: Beacon) -> Iterator[TestClient]:
    yield from client_of(beacon)


@pytest.fixture
def tenant(client: TestClient) -> Tenant:
    return make_tenant(client)


def rule(client: TestClient, tenant: Tenant, url: str, condition: dict[str, Any],
         cooldown: int = 0) -> str:
    created = client.post("/api/v1/alerts", headers=tenant.headers("write"), json={
        "name": "Checkouts", "condition": condition, "cooldown_seconds": cooldown,
        "channels": [{"type": "webhook", "url": url, "secret": SECRET}]})
    return str(data_of(created, 201)["id"])


def catch_up_all_but(beacon: Beacon, *behind: str) -> None:
    """Every read model up to the head of its log, except those named (they lag)."""
    for runner in beacon.runners:
        if runner.name not in behind:
            runner.catch_up()


def preview(client: TestClient, tenant: Tenant, condition: dict[str, Any],
            start: str, end: str) -> list[dict[str, Any]]:
    return [change(c) for c in data_of(client.post(
        "/api/v1/alerts/preview", headers=tenant.headers("read"),
        json={"condition": condition, "from": start, "to": end}))["changes"]]


def test_an_instant_is_not_judged_before_the_read_models_have_it(
        beacon: Beacon, client: TestClient, tenant: Tenant, clock: FakeClock,
        receiver: Receiver) -> None:
    silence = threshold(op="<", value=1)  # no checkout_failed for a minute
    track(client, tenant, clock, 1)
    alert_id = rule(client, tenant, receiver.url, silence)
    evaluate(beacon)
    for _ in range(2):  # an event every 55 s: never a silent minute
        clock.advance(seconds=55)
        track(client, tenant, clock, 1)
        evaluate(beacon)
    clock.advance(seconds=55)  # 12:02:45
    track(client, tenant, clock, 1)
    catch_up_all_but(beacon, "events")  # the events read model lags behind this batch
    clock.advance(seconds=20)  # 12:03:05: the grid instant 12:03:00 is due
    beacon.jobs.evaluate_alerts()
    assert [e["state"] for e in history(client, tenant, alert_id)] == ["ok"]

    evaluate(beacon)  # the read model has caught up: 12:02:45's batch, then 12:03:00, are judged
    assert [e["state"] for e in history(client, tenant, alert_id)] == ["ok"]
    clock.advance(seconds=60)  # 12:04:05: a silent minute since 12:02:45
    evaluate(beacon)
    live = history(client, tenant, alert_id)[1:]
    assert live == [{"state": "firing", "at": "2026-04-04T12:03:50.000000Z", "value": 0.0}]
    assert [r.json["type"] for r in receiver.received] == ["alert.fired"]
    assert preview(client, tenant, silence, "2026-04-04T12:00:00Z", iso(clock())) == live


def test_a_moment_just_received_is_judged_once_it_has_settled(
        beacon: Beacon, client: TestClient, tenant: Tenant, clock: FakeClock,
        receiver: Receiver) -> None:
    alert_id = rule(client, tenant, receiver.url, threshold())
    clock.advance(seconds=5)
    track(client, tenant, clock, 3)
    settle(beacon)
    beacon.jobs.evaluate_alerts()  # at the moment it was received: it may not be all in yet
    assert [e["state"] for e in history(client, tenant, alert_id)] == ["ok"]
    assert beacon.alert_evaluation.due == clock() + beacon.alert_evaluation.settle

    clock.advance(seconds=beacon.settings.alert_settle_seconds)
    beacon.jobs.evaluate_alerts()
    assert history(client, tenant, alert_id)[1:] == [
        {"state": "firing", "at": "2026-04-04T12:00:05.000000Z", "value": 3.0}]
    assert beacon.alert_evaluation.due is None


@pytest.mark.parametrize("metric", ["count", "count, filtered", "unique_actors"])
def test_preview_equals_live_for_an_sdk_that_sends_its_events_late(
        beacon: Beacon, client: TestClient, tenant: Tenant, clock: FakeClock,
        receiver: Receiver, metric: str) -> None:
    """Mobile SDKs flush every 30-45 s: each event arrives well after its own time. Live
    evaluation judged each instant on what had arrived by then; so does the preview."""
    filters = [{"key": "plan", "op": "eq", "value": "pro"}] if "filtered" in metric else []
    condition = threshold(metric=metric.split(",")[0], filters=filters, value=1 if filters else 2)
    alert_id = rule(client, tenant, receiver.url, condition)
    for gap, lag, count in ((25, 30, 2), (23, 30, 2), (91, 45, 1), (15, 45, 3), (203, 30, 3)):
        clock.advance(seconds=gap)  # arrivals 4-8 s past a grid instant: never within its settle
        evaluate(beacon)  # the worker runs between arrivals too
        response = client.post("/v1/events", headers=tenant.headers("ingest"), json=[
            {"event_id": str(uuid.uuid4()), "category": "shop", "name": "checkout_failed",
             "timestamp": iso(clock() - timedelta(seconds=lag)), "actor_id": f"user-{n}",
             "properties": {"plan": "free" if n == 2 else "pro"}} for n in range(count)])
        assert response.status_code == 200, response.text
        evaluate(beacon)
    clock.advance(seconds=120)
    evaluate(beacon)
    live = history(client, tenant, alert_id)[1:]
    assert len(live) >= 4
    assert preview(client, tenant, condition, "2026-04-04T12:00:00Z", iso(clock())) == live


@pytest.mark.parametrize("lagging", [("enrichment", "enriched_events"), ("enrichment",),
                                     ("enriched_events",)],
                         ids=["both", "the pipeline alone", "the read model alone"])
def test_a_rule_on_an_enriched_field_waits_for_the_enrichment(
        beacon: Beacon, client: TestClient, tenant: Tenant, clock: FakeClock,
        receiver: Receiver, lagging: tuple[str, ...]) -> None:
    in_britain = threshold(filters=[{"key": "$country", "op": "eq", "value": "GB"}])
    alert_id = rule(client, tenant, receiver.url, in_britain)
    clock.advance(seconds=5)
    response = client.post("/v1/events", headers=tenant.headers("ingest"), json=[
        {"event_id": str(uuid.uuid4()), "category": "shop", "name": "checkout_failed",
         "timestamp": iso(clock()), "actor_id": f"user-{n}", "context": {"ip": LONDON}}
        for n in range(3)])
    assert response.status_code == 200, response.text
    clock.advance(seconds=2)
    # The pipeline alone lagging: the read model has read the whole log, batch included, yet
    # holds no country for it; judging the batch then would count it out for good.
    catch_up_all_but(beacon, *lagging)
    beacon.jobs.evaluate_alerts()
    assert [e["state"] for e in history(client, tenant, alert_id)] == ["ok"]

    settle(beacon)  # enriched: the batch is judged at its moment, with its country known
    beacon.jobs.evaluate_alerts()
    live = history(client, tenant, alert_id)[1:]
    assert live == [{"state": "firing", "at": "2026-04-04T12:00:05.000000Z", "value": 3.0}]
    assert preview(client, tenant, in_britain, "2026-04-04T12:00:00Z", iso(clock())) == live


def test_a_batch_after_a_rule_was_written_waits_for_the_rules_list(
        beacon: Beacon, client: TestClient, tenant: Tenant, clock: FakeClock,
        receiver: Receiver) -> None:
    evaluate(beacon)
    alert_id = rule(client, tenant, receiver.url, threshold())  # not listed yet: `alerts` lags
    clock.advance(seconds=5)
    track(client, tenant, clock, 3)
    catch_up_all_but(beacon, "alerts")
    clock.advance(seconds=beacon.settings.alert_settle_seconds)
    beacon.alert_evaluation.run()  # the rule is not in the list it reads: the batch waits
    assert [e["state"] for e in history(client, tenant, alert_id)] == ["ok"]

    evaluate(beacon)
    assert history(client, tenant, alert_id)[1:] == [
        {"state": "firing", "at": "2026-04-04T12:00:05.000000Z", "value": 3.0}]


def test_a_rule_never_fires_at_a_moment_before_it_existed(
        beacon: Beacon, client: TestClient, tenant: Tenant, clock: FakeClock,
        receiver: Receiver) -> None:
    evaluate(beacon)  # the worker's last run: 12:00
    clock.advance(hours=1)  # it was down for an hour; the rule is made at 13:00
    alert_id = rule(client, tenant, receiver.url, threshold(op="<", value=1))
    created = data_of(client.get(f"/api/v1/alerts/{alert_id}", headers=tenant.headers("read")))
    evaluate(beacon)  # catches up the grid instants it missed, 12:00:10 to 13:00
    assert history(client, tenant, alert_id)[1:] == [
        {"state": "firing", "at": "2026-04-04T13:00:00.000000Z", "value": 0.0}]
    assert created["created_at"] == "2026-04-04T13:00:00.000000Z"


def test_a_worker_that_first_runs_after_a_rule_was_made_judges_it_from_its_making(
        beacon: Beacon, client: TestClient, tenant: Tenant, clock: FakeClock,
        receiver: Receiver) -> None:
    """No run before the rule (a fresh installation whose worker starts late): the first run
    judged only its own grid instant, so a silence rule made at 12:00 fired at 12:05 live while
    preview said 12:00."""
    condition = threshold(op="<", value=1)
    alert_id = rule(client, tenant, receiver.url, condition)
    clock.advance(minutes=5)
    evaluate(beacon)
    live = history(client, tenant, alert_id)[1:]
    assert live == [{"state": "firing", "at": "2026-04-04T12:00:00.000000Z", "value": 0.0}]
    assert preview(client, tenant, condition, "2026-04-04T12:00:00Z", iso(clock())) == live


@pytest.mark.parametrize("filters", [[], [{"key": "plan", "op": "neq", "value": "free"}]],
                         ids=["counted by the seconds", "counted from rows"])
def test_a_crossing_between_two_arrivals_that_one_run_reads_is_not_missed(
        beacon: Beacon, client: TestClient, tenant: Tenant, clock: FakeClock,
        receiver: Receiver, filters: list[dict[str, str]]) -> None:
    """Two batches read by one run: at the first the count is 3 (> 2), by the second the two
    oldest events have left the window (2). The run judged each rule once, at the latest
    arrival, and saw nothing; preview, judging every arrival, fired and resolved. Every
    arrival is judged now, its value measured with the others of the run."""
    condition = threshold(filters=filters)
    alert_id = rule(client, tenant, receiver.url, condition)
    clock.advance(seconds=3)
    track(client, tenant, clock, 2, plan="pro")  # 12:00:03
    evaluate(beacon)
    clock.advance(seconds=59, microseconds=800_000)
    track(client, tenant, clock, 1, plan="pro")  # 12:01:02.8: 3 in the minute
    clock.advance(microseconds=400_000)
    track(client, tenant, clock, 1, plan="pro")  # 12:01:03.2: 12:00:03's have left it
    evaluate(beacon)  # one run reads both
    live = history(client, tenant, alert_id)[1:]
    assert live == [
        {"state": "firing", "at": "2026-04-04T12:01:02.800000Z", "value": 3.0},
        {"state": "resolved", "at": "2026-04-04T12:01:03.200000Z", "value": 2.0}]
    assert preview(client, tenant, condition, "2026-04-04T12:00:00Z", iso(clock())) == live
    assert [r.json["type"] for r in receiver.received] == ["alert.fired", "alert.resolved"]


def test_a_backlog_is_judged_a_slice_per_run_as_it_would_have_been_at_once(
        beacon: Beacon, client: TestClient, tenant: Tenant, clock: FakeClock,
        receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run reads at most MAX_ENTRIES of a log (here 2), keeps its positions and asks for the
    next run at once: a worker back after a stop, or a storm of error reports, moves on a slice
    at a time instead of one run that outgrows its time limit and never keeps anything. Two
    logs (batches and exception reports) cut at different places: what is judged is what one
    run would have judged, as the preview says."""
    monkeypatch.setattr(alert_evaluation, "MAX_ENTRIES", 2)
    count = threshold(value=4)
    groups = {"type": "exception_group", "trigger": "over", "value": 1, "window_seconds": 60}
    counted, reported = (rule(client, tenant, receiver.url, c) for c in (count, groups))
    clock.advance(seconds=3)
    for step in range(12):  # a batch every 25 s, a report every other, nothing judged meanwhile
        track(client, tenant, clock, 1 + step % 4)
        if step % 2:
            report(client, tenant, clock)
        clock.advance(seconds=25)
    clock.advance(minutes=2)
    runs = 0
    while True:
        evaluate(beacon)
        runs += 1
        if not beacon.alert_evaluation.more:
            break
    assert runs >= 6  # 12 batches and 6 reports, two of a log a run
    end = iso(clock())
    for alert_id, condition in ((counted, count), (reported, groups)):
        live = history(client, tenant, alert_id)[1:]
        assert len(live) >= 2
        assert preview(client, tenant, condition, "2026-04-04T12:00:00Z", end) == live


def test_a_slice_never_ends_inside_entries_of_one_moment(
        beacon: Beacon, client: TestClient, tenant: Tenant, clock: FakeClock,
        receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three rules made at one microsecond, two entries a run: a run that cut at the third
    judged nothing before that moment, kept its positions and asked again, forever (found by
    a differential audit). Reading goes on until an entry happened after every one read."""
    monkeypatch.setattr(alert_evaluation, "MAX_ENTRIES", 2)
    silence = threshold(op="<", value=1)
    made = [rule(client, tenant, receiver.url, silence) for _ in range(3)]  # clock unmoved
    clock.advance(seconds=30)
    for _ in range(5):
        evaluate(beacon)
        if not beacon.alert_evaluation.more:
            break
    assert not beacon.alert_evaluation.more
    for alert_id in made:
        assert history(client, tenant, alert_id)[1:] == [
            {"state": "firing", "at": "2026-04-04T12:00:00.000000Z", "value": 0.0}]


def test_a_batch_of_events_outside_a_rules_window_is_judged_as_the_preview_judges_it(
        beacon: Beacon, client: TestClient, tenant: Tenant, clock: FakeClock,
        receiver: Receiver) -> None:
    """A batch whose events are older than the window (an SDK's backlog, two days or 90 s),
    or stamped by a clock two hours ahead, changes no count at its arrival: a silence rule is
    judged at the grid, as the preview judges it, not at that arrival (it fired at the arrival
    live, and at the arrival or the grid in preview, depending on the preview's `from`)."""
    silence = threshold(op="<", value=1)
    alert_id = rule(client, tenant, receiver.url, silence)
    clock.advance(seconds=3)
    track(client, tenant, clock, 1)  # 12:00:03
    evaluate(beacon)
    clock.advance(seconds=62)  # 12:01:05: a silent minute since 12:00:05
    for lag in (timedelta(days=2), timedelta(seconds=90), timedelta(hours=-2)):
        response = client.post("/v1/events", headers=tenant.headers("ingest"), json=[
            {"event_id": str(uuid.uuid4()), "category": "shop", "name": "checkout_failed",
             "timestamp": iso(clock() - lag), "actor_id": "user-1"}])
        assert response.status_code == 200, response.text
    clock.advance(seconds=10)
    evaluate(beacon)
    live = history(client, tenant, alert_id)[1:]
    assert live[2:] == [{"state": "firing", "at": "2026-04-04T12:01:10.000000Z", "value": 0.0}]
    assert preview(client, tenant, silence, "2026-04-04T12:00:00Z", iso(clock())) == live


def test_a_muted_firing_is_told_when_the_mute_ends_if_it_still_fires(
        beacon: Beacon, client: TestClient, tenant: Tenant, clock: FakeClock,
        receiver: Receiver) -> None:
    alert_id = rule(client, tenant, receiver.url, threshold())
    data_of(client.post(f"/api/v1/alerts/{alert_id}/mute", json={"until": iso(MUTE_END)},
                        headers=tenant.headers("write")))
    for _ in range(9):  # 3 failures every 20 s until 12:03:00: firing all along
        clock.advance(seconds=20)
        track(client, tenant, clock, 3)
        evaluate(beacon)
        if clock() < MUTE_END:
            assert receiver.received == []
    clock.advance(seconds=120)  # quiet: it resolves
    evaluate(beacon)

    response = client.get(f"/api/v1/alerts/{alert_id}/history", headers=tenant.headers("read"))
    entries = [{k: e[k] for k in ("state", "at", "suppressed", "reason")}
               for e in data_of(response)]
    assert entries[1:] == [
        {"state": "firing", "at": "2026-04-04T12:00:20.000000Z", "suppressed": "muted",
         "reason": None},
        {"state": "firing", "at": "2026-04-04T12:02:00.000000Z", "suppressed": None,
         "reason": "told late"},
        {"state": "resolved", "at": "2026-04-04T12:04:00.000000Z", "suppressed": None,
         "reason": None}]
    assert [r.json["type"] for r in receiver.received] == ["alert.fired", "alert.resolved"]
    assert receiver.received[0].json["alert"]["state"] == "firing"
    assert all(r.signed_with(SECRET) for r in receiver.received)


def test_a_firing_inside_the_cooldown_is_told_once_the_cooldown_is_over(
        beacon: Beacon, client: TestClient, tenant: Tenant, clock: FakeClock,
        receiver: Receiver) -> None:
    alert_id = rule(client, tenant, receiver.url, threshold(), cooldown=300)
    track(client, tenant, clock, 3)
    evaluate(beacon)  # fires, told
    clock.advance(seconds=70)
    evaluate(beacon)  # resolves, told
    for _ in range(14):  # fires again at 12:01:20, inside the cooldown, and keeps firing
        clock.advance(seconds=20)
        track(client, tenant, clock, 3)
        evaluate(beacon)
    states = [(e["state"], e["suppressed"], e["reason"])
              for e in data_of(client.get(f"/api/v1/alerts/{alert_id}/history",
                                          headers=tenant.headers("read")))]
    assert states[1:] == [("firing", None, None), ("resolved", None, None),
                          ("firing", "cooldown", None), ("firing", None, "told late")]
    assert [r.json["type"] for r in receiver.received] == [
        "alert.fired", "alert.resolved", "alert.fired"]
    assert receiver.received[-1].json["alert"]["state_since"] == "2026-04-04T12:01:30.000000Z"


def test_a_new_condition_is_in_the_history_and_lists_leave_out_a_rule_just_deleted(
        beacon: Beacon, client: TestClient, tenant: Tenant, clock: FakeClock,
        receiver: Receiver) -> None:
    kept = rule(client, tenant, receiver.url, threshold())
    gone = rule(client, tenant, receiver.url, threshold(value=10))
    track(client, tenant, clock, 3)
    evaluate(beacon)
    clock.advance(seconds=10)
    changed = client.patch(f"/api/v1/alerts/{kept}", headers=tenant.headers("write"),
                           json={"condition": threshold(value=5)})
    data_of(changed)
    assert [(e["state"], e["reason"]) for e in data_of(client.get(
        f"/api/v1/alerts/{kept}/history", headers=tenant.headers("read")))] == [
        ("ok", "created"), ("firing", None), ("ok", "condition changed")]

    settle(beacon)
    assert client.delete(f"/api/v1/alerts/{gone}", headers=tenant.headers("write")).status_code == 204
    # the alerts read model has not caught up with the deletion yet
    listed = client.get("/api/v1/alerts", headers=tenant.headers("read"))
    assert listed.status_code == 200, listed.text
    assert [a["id"] for a in listed.json()["data"]] == [kept]
    graphql = client.post("/graphql", headers=tenant.headers("read"), json={
        "query": "{ alerts { totalCount edges { node { id } } } }"})
    assert graphql.status_code == 200 and "errors" not in graphql.json(), graphql.text
    assert [e["node"]["id"] for e in graphql.json()["data"]["alerts"]["edges"]] == [kept]
    settle(beacon)
    listed = client.get("/api/v1/alerts", headers=tenant.headers("read"))
    assert listed.json()["total"] == 1
    assert client.post("/graphql", headers=tenant.headers("read"), json={
        "query": "{ alerts { totalCount } }"}).json()["data"]["alerts"]["totalCount"] == 1


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379/", "http://169.254.169.254/latest",
                                 "http://localhost/hook", "http://10.1.2.3/"])
def test_a_channel_to_a_private_address_is_refused_when_the_rule_is_written(
        settings: Settings, url: str) -> None:
    with closing(bootstrap(settings)) as beacon:  # private webhooks not allowed: the default
        client = next(client_of(beacon))
        tenant = make_tenant(client)
        refused = client.post("/api/v1/alerts", headers=tenant.headers("write"), json={
            "name": "Checkouts", "condition": threshold(),
            "channels": [{"type": "webhook", "url": url}]})
        assert refused.status_code == 422, refused.text
        assert client.get("/api/v1/alerts", headers=tenant.headers("read")).json()["total"] == 0
        created = client.post("/api/v1/alerts", headers=tenant.headers("write"), json={
            "name": "Checkouts", "condition": threshold(),
            "channels": [{"type": "webhook", "url": "https://93.184.216.34/hook"}]})
        alert_id = data_of(created, 201)["id"]
        changed = client.patch(f"/api/v1/alerts/{alert_id}", headers=tenant.headers("write"),
                               json={"channels": [{"type": "webhook", "url": url}]})
        assert changed.status_code == 422, changed.text


def test_previews_are_limited_per_workspace_whatever_the_keys_allow(
        client: TestClient, tenant: Tenant) -> None:
    body = {"condition": threshold(), "from": "2026-04-04T11:00:00Z", "to": "2026-04-04T11:01:00Z"}
    answers = [client.post("/api/v1/alerts/preview", headers=tenant.headers("read"), json=body)
               for _ in range(11)]
    assert [a.status_code for a in answers] == [200] * 10 + [429]
    assert answers[-1].json()["error"]["code"] == "rate_limited"
    assert int(answers[-1].headers["Retry-After"]) >= 1
    other = make_tenant(client, name="Globex", slug="globex")  # another workspace is not held up
    assert client.post("/api/v1/alerts/preview", headers=other.headers("read"),
                       json=body).status_code == 200
