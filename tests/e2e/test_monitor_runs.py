"""Job runs through HTTP: start, success, fail, exit statuses, logs, timeouts and minimum runtimes,
read back as beats, runs and flips, on SQLite and PostgreSQL with a hand-driven clock."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import FakeClock, Tenant, data_of, settle
from tests.e2e.test_heartbeats import assert_transparent_gif, checked_after, create_monitor, monitor


def signal(client: TestClient, token: str, path: str = "", **kwargs: Any) -> None:
    url = f"/api/v1/beet/{token}{path}"
    response = client.post(url, **kwargs) if "content" in kwargs else client.get(url, **kwargs)
    assert_transparent_gif(response)


def listed(client: TestClient, beacon: Beacon, tenant: Tenant, monitor_id: str, what: str,
           **params: Any) -> list[dict]:
    settle(beacon)
    return data_of(client.get(f"/api/v1/monitors/{monitor_id}/{what}", params=params,
                              headers=tenant.headers("read")))


def test_a_run_from_start_to_success_is_timed_and_counts_as_the_beat(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=3600)
    signal(clocked_client, created["token"], "/start", params={"rid": "run-1"})
    started = monitor(clocked_client, tenant_on_clock, created["id"])
    assert started["status"] == "new" and started["open_runs"][0]["rid"] == "run-1"
    clock.advance(seconds=42, microseconds=500_000)
    signal(clocked_client, created["token"], params={"rid": "run-1"})
    done = monitor(clocked_client, tenant_on_clock, created["id"])
    assert done["status"] == "up" and done["open_runs"] == [] and done["last_beat_at"]
    (run,) = listed(clocked_client, clocked_beacon, tenant_on_clock, created["id"], "runs")
    assert (run["rid"], run["outcome"], run["duration_ms"], run["exit_status"]) == \
        ("run-1", "success", 42_500, None)
    assert run["ended_at"] > run["started_at"]
    kinds = [b["kind"] for b in listed(clocked_client, clocked_beacon, tenant_on_clock,
                                       created["id"], "beats")]
    assert kinds == ["success", "start"]


def test_fail_is_down_at_once_with_its_reason_and_body_kept(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=3600)
    signal(clocked_client, created["token"])
    clock.advance(seconds=10)
    signal(clocked_client, created["token"], "/fail", content=b"disk full\n" + b"x" * 20_000)
    assert monitor(clocked_client, tenant_on_clock, created["id"])["status"] == "down"
    flips = listed(clocked_client, clocked_beacon, tenant_on_clock, created["id"], "flips")
    assert [(f["after"], f["reason"]) for f in flips] == [("down", "fail"), ("up", "success")]
    (failure,) = listed(clocked_client, clocked_beacon, tenant_on_clock, created["id"], "beats",
                        kind="fail")
    assert failure["body"].startswith("disk full") and len(failure["body"]) == 10_240


def test_exit_statuses_zero_is_success_others_fail_and_out_of_range_is_refused(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=3600)
    signal(clocked_client, created["token"], "/0")
    assert monitor(clocked_client, tenant_on_clock, created["id"])["status"] == "up"
    clock.advance(seconds=5)
    signal(clocked_client, created["token"], "/start")
    clock.advance(seconds=5)
    signal(clocked_client, created["token"], "/3")
    assert monitor(clocked_client, tenant_on_clock, created["id"])["status"] == "down"
    (flip, _) = listed(clocked_client, clocked_beacon, tenant_on_clock, created["id"], "flips")
    assert (flip["reason"], flip["exit_status"]) == ("exit_status", 3)
    (run,) = listed(clocked_client, clocked_beacon, tenant_on_clock, created["id"], "runs")
    assert (run["outcome"], run["exit_status"], run["duration_ms"]) == ("exit_status", 3, 5000)
    for bad in ("/256", "/-1"):
        response = clocked_client.get(f"/api/v1/beet/{created['token']}{bad}")
        assert response.status_code == 422 and response.json()["error"]["code"]


def test_a_log_is_kept_and_changes_nothing(clocked_client: TestClient, clocked_beacon: Beacon,
                                           tenant_on_clock: Tenant) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=3600)
    signal(clocked_client, created["token"], "/log", content="step 2 of 5 done\x00")
    assert monitor(clocked_client, tenant_on_clock, created["id"])["status"] == "new"
    (entry,) = listed(clocked_client, clocked_beacon, tenant_on_clock, created["id"], "beats")
    assert (entry["kind"], entry["body"]) == ("log", "step 2 of 5 done")


def test_a_run_past_its_max_runtime_is_down_by_the_check(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=3600,
                             max_runtime_seconds=600)
    signal(clocked_client, created["token"])
    signal(clocked_client, created["token"], "/start", params={"rid": "slow"})
    checked_after(clocked_beacon, clock, 599)
    assert monitor(clocked_client, tenant_on_clock, created["id"])["status"] == "up"
    checked_after(clocked_beacon, clock, 30)
    down = monitor(clocked_client, tenant_on_clock, created["id"])
    assert down["status"] == "down" and down["open_runs"][0]["timed_out"]
    (flip, _) = listed(clocked_client, clocked_beacon, tenant_on_clock, created["id"], "flips")
    assert (flip["reason"], flip["rid"]) == ("run_timeout", "slow")
    assert flip["at"] < flip["recorded_at"]  # effective at the deadline, found by a later check
    (run,) = listed(clocked_client, clocked_beacon, tenant_on_clock, created["id"], "runs")
    assert (run["outcome"], run["timed_out"]) == ("running", True)


def test_a_run_shorter_than_its_min_runtime_counts_as_failed(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=3600,
                             min_runtime_seconds=60)
    signal(clocked_client, created["token"], "/start")
    clock.advance(seconds=2)
    signal(clocked_client, created["token"])
    assert monitor(clocked_client, tenant_on_clock, created["id"])["status"] == "down"
    (run,) = listed(clocked_client, clocked_beacon, tenant_on_clock, created["id"], "runs")
    assert (run["outcome"], run["duration_ms"]) == ("run_too_short", 2000)


def test_a_malformed_rid_is_refused_on_signals_but_the_seed_beacon_still_answers_the_gif(
        clocked_client: TestClient, tenant_on_clock: Tenant) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=3600)
    response = clocked_client.get(f"/api/v1/beet/{created['token']}/start",
                                  params={"rid": "x" * 65})
    assert response.status_code == 422
    signal(clocked_client, created["token"], params={"rid": "x" * 65})
    assert monitor(clocked_client, tenant_on_clock, created["id"])["status"] == "up"


def test_a_run_timing_out_while_the_monitor_is_down_is_recorded_and_not_due_again(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=3600,
                             max_runtime_seconds=60)
    signal(clocked_client, created["token"], "/fail")
    signal(clocked_client, created["token"], "/start")
    checked_after(clocked_beacon, clock, 61)
    settle(clocked_beacon)
    (run,) = listed(clocked_client, clocked_beacon, tenant_on_clock, created["id"], "runs")
    assert run["timed_out"] and monitor(clocked_client, tenant_on_clock, created["id"])[
        "status"] == "down"
    assert clocked_beacon.monitors.due_for_check(clock.now) == []


def test_beats_runs_and_flips_page_newest_first_with_cursors(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=3600)
    for n in range(3):
        clock.advance(seconds=10)
        signal(clocked_client, created["token"], "/start", params={"rid": f"r{n}"})
        clock.advance(seconds=1)
        signal(clocked_client, created["token"], "/fail" if n == 1 else "",
               params={"rid": f"r{n}"})
    settle(clocked_beacon)
    url, headers = f"/api/v1/monitors/{created['id']}", tenant_on_clock.headers("read")
    for what, count in (("beats", 6), ("runs", 3), ("flips", 3)):
        seen, cursor = [], None
        while True:
            page = clocked_client.get(f"{url}/{what}", headers=headers,
                                      params={"limit": 2, **({"cursor": cursor} if cursor else {})}
                                      ).json()
            seen += page["data"]
            if not page["has_more"]:
                break
            cursor = page["next_cursor"]
        assert len(seen) == count, what
        stamps = [row.get("at") or row.get("started_at") for row in seen]
        assert stamps == sorted(stamps, reverse=True), what
    assert [r["rid"] for r in listed(clocked_client, clocked_beacon, tenant_on_clock,
                                     created["id"], "runs")] == ["r2", "r1", "r0"]
    bad = clocked_client.get(f"{url}/beats", params={"cursor": "nope"}, headers=headers)
    assert bad.status_code == 400
