"""Alert conditions beyond thresholds: exception groups (new, regressed, over N per window) and
heartbeat monitors (down, back up), evaluated off the Telemetry and Monitoring logs."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.time import from_micros, iso, micros
from interfaces.bootstrap import Beacon
from tests.conftest import FakeClock, Tenant, make_tenant, settle
from tests.e2e.test_alerts import SECRET, change, evaluate, history
from tests.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def create_rule(client: TestClient, tenant: Tenant, url: str, **condition: Any) -> dict[str, Any]:
    response = client.post("/api/v1/alerts", headers=tenant.headers("write"), json={
        "name": "Watch", "condition": condition, "cooldown_seconds": 0,
        "channels": [{"type": "webhook", "url": url, "secret": SECRET}]})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def report(client: TestClient, tenant: Tenant, clock: FakeClock,
           exception_type: str = "ValueError") -> None:
    response = client.post("/v1/events/exceptions", headers=tenant.headers("ingest"), json={
        "exception_id": str(uuid.uuid4()), "exception_type": exception_type,
        "severity": "fatal", "occurred_at": iso(clock()), "actor_id": "user-1",
        "source_app": "MyApp", "source_version": "1.2.0", "message": "boom",
        "stack_trace": f'File "app/{exception_type}.py", line 12, in export'})
    assert response.status_code in (200, 201, 202), response.text


def backup_monitor(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    """A monitor expecting a beat every minute, down 30 s after one is missed."""
    response = client.post("/api/v1/monitors", headers=tenant.headers("write"),
                           json={"name": "backup", "period_seconds": 60, "grace_seconds": 30})
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def states(client: TestClient, tenant: Tenant, alert: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["state"], e["at"][11:19]) for e in history(client, tenant, alert["id"])]


def test_a_new_exception_group_fires_and_its_repeats_do_not(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    alert = create_rule(clocked_client, tenant_on_clock, receiver.url, type="exception_group",
                        trigger="new", window_seconds=60)
    clock.advance(seconds=5)
    report(clocked_client, tenant_on_clock, clock)
    evaluate(clocked_beacon)
    clock.advance(seconds=20)
    report(clocked_client, tenant_on_clock, clock)
    evaluate(clocked_beacon)
    clock.advance(seconds=60)  # 12:01:25
    evaluate(clocked_beacon)
    assert states(clocked_client, tenant_on_clock, alert) == [
        ("ok", "12:00:00"), ("firing", "12:00:05"), ("resolved", "12:01:10")]
    assert [r.json["type"] for r in receiver.received] == ["alert.fired", "alert.resolved"]
    # Which group is new is recorded with the firing, and told with both webhooks.
    cause = history(clocked_client, tenant_on_clock, alert["id"])[1]["cause"]
    [group] = cause["groups"]
    assert group["fingerprint"] and {k: group[k] for k in ("exception_type", "message")} == {
        "exception_type": "ValueError", "message": "boom"}
    assert group["reports"] == 1  # in the window ending when it fired
    assert [r.json["cause"] for r in receiver.received] == [cause, cause]

    response = clocked_client.post("/api/v1/alerts/preview", headers=tenant_on_clock.headers("read"),
                                   json={"condition": alert["condition"],
                                         "from": "2026-04-04T12:00:00Z", "to": iso(clock())})
    live = history(clocked_client, tenant_on_clock, alert["id"])[1:]
    assert [change(c) for c in response.json()["data"]["changes"]] == live


def test_a_group_over_n_reports_per_window_fires_and_a_regressed_one_too(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    over = create_rule(clocked_client, tenant_on_clock, receiver.url, type="exception_group",
                       trigger="over", value=2, window_seconds=60)
    regressed = create_rule(clocked_client, tenant_on_clock, receiver.url,
                            type="exception_group", trigger="regressed", window_seconds=60,
                            quiet_seconds=600)
    for _ in range(2):
        report(clocked_client, tenant_on_clock, clock, "KeyError")
    report(clocked_client, tenant_on_clock, clock, "ValueError")
    evaluate(clocked_beacon)
    assert states(clocked_client, tenant_on_clock, over) == [("ok", "12:00:00")]
    report(clocked_client, tenant_on_clock, clock, "KeyError")
    evaluate(clocked_beacon)
    assert states(clocked_client, tenant_on_clock, over)[-1] == ("firing", "12:00:00")
    fired = history(clocked_client, tenant_on_clock, over["id"])[-1]
    assert [(g["exception_type"], g["reports"]) for g in fired["cause"]["groups"]] == [
        ("KeyError", 3)]  # the group past the value, not the quiet one beside it
    assert states(clocked_client, tenant_on_clock, regressed) == [("ok", "12:00:00")]
    clock.advance(minutes=15)  # quiet for longer than quiet_seconds, then back
    report(clocked_client, tenant_on_clock, clock, "KeyError")
    evaluate(clocked_beacon)
    assert states(clocked_client, tenant_on_clock, regressed)[-1] == ("firing", "12:15:00")
    fired = history(clocked_client, tenant_on_clock, regressed["id"])[-1]
    assert [(g["exception_type"], g["reports"]) for g in fired["cause"]["groups"]] == [
        ("KeyError", 1)]


def test_a_monitor_going_down_fires_and_coming_back_up_resolves_and_fires_up(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    monitor = backup_monitor(clocked_client, tenant_on_clock)
    down = create_rule(clocked_client, tenant_on_clock, receiver.url, type="monitor",
                       trigger="down", monitor_id=monitor["id"])
    up = create_rule(clocked_client, tenant_on_clock, receiver.url, type="monitor",
                     trigger="up", monitor_id=monitor["id"], window_seconds=60)
    clocked_client.get(f"/api/v1/beet/{monitor['token']}")
    clock.advance(seconds=91)  # 12:01:31: down since 12:01:30
    settle(clocked_beacon)
    clocked_beacon.jobs.check_monitors()
    evaluate(clocked_beacon)
    assert states(clocked_client, tenant_on_clock, down)[-1] == ("firing", "12:01:30")
    clock.advance(seconds=29)  # 12:02:00: a beat, up again
    clocked_client.get(f"/api/v1/beet/{monitor['token']}")
    evaluate(clocked_beacon)
    assert states(clocked_client, tenant_on_clock, down)[-1] == ("resolved", "12:02:00")
    assert states(clocked_client, tenant_on_clock, up)[1:] == [("firing", "12:02:00")]
    named = {"monitor": {"id": monitor["id"], "name": "backup"}}
    assert history(clocked_client, tenant_on_clock, down["id"])[1]["cause"] == named
    assert all(r.json["cause"] == named for r in receiver.received)
    told = sorted((r.json["alert"]["id"], r.json["type"]) for r in receiver.received)
    assert told == sorted([(down["id"], "alert.fired"), (down["id"], "alert.resolved"),
                           (up["id"], "alert.fired")])


def test_an_outage_shorter_than_the_grid_step_fires_and_resolves_at_its_flips(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    """A flip is judged when it happens, not at the next 10 s grid instant: a run that failed at
    12:00:21 and one that succeeded at 12:00:25 were never seen (flips were read by a topic
    they do not have), and preview said fired and resolved."""
    monitor = backup_monitor(clocked_client, tenant_on_clock)
    down = create_rule(clocked_client, tenant_on_clock, receiver.url, type="monitor",
                       trigger="down", monitor_id=monitor["id"])
    clocked_client.get(f"/api/v1/beet/{monitor['token']}")
    evaluate(clocked_beacon)
    clock.advance(seconds=21)
    clocked_client.get(f"/api/v1/beet/{monitor['token']}/fail")  # down at 12:00:21
    evaluate(clocked_beacon)
    clock.advance(seconds=4)
    clocked_client.get(f"/api/v1/beet/{monitor['token']}")  # up at 12:00:25
    evaluate(clocked_beacon)
    clock.advance(seconds=60)
    evaluate(clocked_beacon)
    assert states(clocked_client, tenant_on_clock, down)[1:] == [("firing", "12:00:21"),
                                                                 ("resolved", "12:00:25")]
    preview = clocked_client.post("/api/v1/alerts/preview", headers=tenant_on_clock.headers(
        "read"), json={"condition": down["condition"], "from": "2026-04-04T12:00:00Z",
                       "to": "2026-04-04T12:01:30Z"})
    assert [(c["state"], c["at"][11:19]) for c in preview.json()["data"]["changes"]] == [
        ("firing", "12:00:21"), ("resolved", "12:00:25")]
    assert [r.json["type"] for r in receiver.received] == ["alert.fired", "alert.resolved"]


def test_a_rule_may_watch_only_a_monitor_of_its_own_workspace(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        receiver: Receiver) -> None:
    """A rule on a monitor it cannot see would be accepted and never fire: it is refused."""
    monitor = backup_monitor(clocked_client, tenant_on_clock)
    other = make_tenant(clocked_client, name="Other", slug="other-co")
    write = other.headers("write")
    for watched in (monitor["id"], str(uuid.uuid4())):  # another workspace's; no monitor's
        refused = clocked_client.post("/api/v1/alerts", headers=write, json={
            "name": "Watch", "condition": {"type": "monitor", "trigger": "down",
                                           "monitor_id": watched},
            "channels": [{"type": "webhook", "url": receiver.url, "secret": SECRET}]})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["details"] == [
            {"field": "condition.monitor_id", "message": "not a monitor of this workspace"}]
    theirs = backup_monitor(clocked_client, other)
    rule = create_rule(clocked_client, other, receiver.url, type="monitor", trigger="down",
                       monitor_id=theirs["id"])
    changed = clocked_client.patch(f"/api/v1/alerts/{rule['id']}", headers=write, json={
        "condition": {"type": "monitor", "trigger": "up", "monitor_id": monitor["id"]}})
    assert changed.status_code == 422, changed.text
    kept = clocked_client.get(f"/api/v1/alerts/{rule['id']}", headers=other.headers("read"))
    assert kept.json()["data"]["condition"]["monitor_id"] == theirs["id"]
    assert kept.json()["data"]["condition"]["trigger"] == "down"


def test_a_monitor_under_maintenance_going_down_fires_but_tells_no_one(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    monitor = backup_monitor(clocked_client, tenant_on_clock)
    down = create_rule(clocked_client, tenant_on_clock, receiver.url, type="monitor",
                       trigger="down", monitor_id=monitor["id"])
    window = clocked_client.post(
        f"/api/v1/pages/{tenant_on_clock.page_slug}/maintenances",
        headers=tenant_on_clock.headers("write"),
        json={"title": "Backup host swap", "scheduled_for": iso(clock()),
              "scheduled_until": iso(clock() + timedelta(hours=1)), "components": [],
              "monitors": [monitor["id"]]})
    assert window.status_code == 201, window.text
    assert window.json()["data"]["state"] == "in_progress", window.text
    clocked_client.get(f"/api/v1/beet/{monitor['token']}")
    clock.advance(seconds=91)
    settle(clocked_beacon)
    clocked_beacon.jobs.check_monitors()
    evaluate(clocked_beacon)
    entries = history(clocked_client, tenant_on_clock, down["id"])
    assert entries[-1]["state"] == "firing"
    raw = clocked_client.get(f"/api/v1/alerts/{down['id']}/history",
                             headers=tenant_on_clock.headers("read")).json()["data"]
    assert raw[-1]["suppressed"] == "maintenance" and raw[-1]["notified"] == []
    assert receiver.received == []


def test_exception_group_values_at_many_instants_equal_each_instants_own(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    """A run judges an exception-group rule at every report it read (hundreds in a storm), so
    each trigger is measured at all of them together: each value equals the one measured at
    that instant alone, for reports of several groups, bursts in one second, instants a
    microsecond apart or further apart than the window."""
    rng = random.Random(5)
    for _ in range(120):
        clock.advance(microseconds=rng.choice((1, 300_000, 2_000_000, 9_000_000, 40_000_000)))
        report(clocked_client, tenant_on_clock, clock, rng.choice(("ValueError", "KeyError",
                                                                  "OSError", "TypeError")))
    settle(clocked_beacon)
    meter = clocked_beacon.alert_evaluation.meters["exception_group"]
    start, end = micros(clock()) - 30 * 60_000_000, micros(clock()) + 90_000_000
    moments = {rng.randrange(start, end) for _ in range(60)}
    received = [int(r["received_at"]) for r in clocked_beacon.databases["Telemetry"].query(
        "SELECT received_at FROM rm_exceptions")]
    # On and either side of a report entering or leaving a window, or its quiet spell ending
    moments |= {at + window * 1_000_000 + d for at in received
                for window in (0, 60, 300, 600, 60 + 120, 300 + 120) for d in (-1, 0, 1)}
    instants = sorted(from_micros(m) for m in moments)
    workspace = tenant_on_clock.id
    for trigger, window in (("new", 60), ("new", 600), ("over", 60), ("over", 300),
                            ("regressed", 60), ("regressed", 300)):
        condition = {"type": "exception_group", "trigger": trigger, "window_seconds": window,
                     "quiet_seconds": 120, "op": ">=", "value": 1}
        assert meter.values(workspace, condition, instants) == [
            meter.value(workspace, condition, at) for at in instants], (trigger, window)
    assert max(meter.values(workspace, {"type": "exception_group", "trigger": "over",
                                        "window_seconds": 60}, instants)) >= 3
    assert max(meter.values(workspace, {"type": "exception_group", "trigger": "regressed",
                                        "window_seconds": 60, "quiet_seconds": 120},
                            instants)) >= 1


def test_a_monitor_rule_is_judged_at_its_outages_edges_as_the_preview_judges_it(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    """Judged at every flip, an `up` rule resolved live at the monitor's up-to-late flip, which
    fell exactly as the outage left the rule's minute (period = window), and at the next grid
    instant in preview, which judges outages' edges: live now judges those alone."""
    monitor = backup_monitor(clocked_client, tenant_on_clock)
    rules = {trigger: create_rule(clocked_client, tenant_on_clock, receiver.url, type="monitor",
                                  trigger=trigger, monitor_id=monitor["id"], window_seconds=60)
             for trigger in ("up", "down")}
    beat = f"/api/v1/beet/{monitor['token']}"
    clocked_client.get(beat)  # 12:00:00
    evaluate(clocked_beacon)
    clock.advance(seconds=20)
    clocked_client.get(f"{beat}/fail")  # down at 12:00:20
    evaluate(clocked_beacon)
    clock.advance(seconds=15)
    clocked_client.get(beat)  # up at 12:00:35, late from 12:01:35
    evaluate(clocked_beacon)
    for _ in range(13):  # the worker checks monitors every 10 s
        clock.advance(seconds=10)
        settle(clocked_beacon)
        clocked_beacon.jobs.check_monitors()
        evaluate(clocked_beacon)
    assert states(clocked_client, tenant_on_clock, rules["up"])[1:] == [
        ("firing", "12:00:35"), ("resolved", "12:01:40")]
    for rule in rules.values():
        previewed = clocked_client.post("/api/v1/alerts/preview",
                                        headers=tenant_on_clock.headers("read"), json={
            "condition": rule["condition"], "from": rule["created_at"], "to": iso(clock())})
        assert [change(c) for c in previewed.json()["data"]["changes"]] == \
            history(clocked_client, tenant_on_clock, rule["id"])[1:]


@pytest.mark.parametrize("run_after_check", [0.5, 1.5])
def test_a_flip_dated_back_to_its_deadline_fires_at_the_deadline_as_the_preview_says(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver, run_after_check: float) -> None:
    """A check at 12:01:15 finds the monitor down since 12:01:05 (its deadline): the flip is
    recorded at 12:01:15, dated 12:01:05, and the outage's row starts then. A run within the
    settle after the check judged grid 12:01:10 on that row (fired at 12:01:10) before reading
    the flip, whose own moment was then stale; preview fires at 12:01:05. The flip, left for
    later, now holds evaluation before its date (found by a differential audit)."""
    response = clocked_client.post("/api/v1/monitors", headers=tenant_on_clock.headers("write"),
                                   json={"name": "backup", "period_seconds": 60,
                                         "grace_seconds": 5})
    monitor = response.json()["data"]
    rule = create_rule(clocked_client, tenant_on_clock, receiver.url, type="monitor",
                       trigger="down", monitor_id=monitor["id"], window_seconds=60)
    clocked_client.get(f"/api/v1/beet/{monitor['token']}")  # 12:00:00: down from 12:01:05
    start = clock()

    def run_at(seconds: float) -> None:
        clock.now = start + timedelta(seconds=seconds)
        settle(clocked_beacon)
        clocked_beacon.jobs.evaluate_alerts()

    run_at(68)  # grid 12:01:00 judged: up
    clock.now = start + timedelta(seconds=75)  # the check at 12:01:15
    settle(clocked_beacon)
    clocked_beacon.jobs.check_monitors()
    run_at(75 + run_after_check)
    run_at(90)
    assert states(clocked_client, tenant_on_clock, rule)[1:] == [("firing", "12:01:05")]
    previewed = clocked_client.post("/api/v1/alerts/preview",
                                    headers=tenant_on_clock.headers("read"), json={
        "condition": rule["condition"], "from": rule["created_at"], "to": iso(clock())})
    assert [change(c) for c in previewed.json()["data"]["changes"]] == \
        history(clocked_client, tenant_on_clock, rule["id"])[1:]
