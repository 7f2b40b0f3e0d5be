"""Uptime of components and monitors, checked against a minute-by-minute count made here."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from interfaces.rest.representations import iso
from tests.conftest import FakeClock, Tenant, settle
from tests.e2e.test_components import add_component
from tests.e2e.test_heartbeats import beat, create_monitor
from tests.e2e.test_maintenance import schedule, tick

WEIGHTS = {"major_outage": 1.0, "partial_outage": 0.3, "degraded_performance": 0.0}


def expected(statuses: list[tuple[datetime, str]], maintenance: list[tuple[datetime, datetime]],
             lo: datetime, hi: datetime, weights: dict[str, float]) -> dict[str, float | None]:
    """Walk [lo, hi) a minute at a time (every change in these tests falls on a minute)."""
    seconds = {"major_outage": 0, "partial_outage": 0, "degraded_performance": 0,
               "maintenance": 0, "observed": 0}
    minute = lo
    while minute < hi:
        current = [s for at, s in statuses if at <= minute]
        if current:
            seconds["observed"] += 60
            if any(a <= minute < b for a, b in maintenance):
                seconds["maintenance"] += 60
            elif current[-1] in seconds:
                seconds[current[-1]] += 60
        minute += timedelta(minutes=1)
    counted = seconds["observed"] - seconds["maintenance"]
    lost = sum(weights[k] * seconds[k] for k in weights)
    return {"uptime_percent": round(100 * (1 - lost / counted), 4) if counted else None,
            "major_outage_seconds": seconds["major_outage"],
            "partial_outage_seconds": seconds["partial_outage"],
            "degraded_seconds": seconds["degraded_performance"],
            "maintenance_seconds": seconds["maintenance"]}


def uptime(client: TestClient, beacon: Beacon, tenant: Tenant, path: str, lo: datetime,
           hi: datetime, interval: str = "hour") -> dict:
    settle(beacon)
    response = client.get(path, params={"from": iso(lo), "to": iso(hi), "interval": interval},
                          headers=tenant.headers("read"))
    assert response.status_code == 200, response.text
    return response.json()["data"]


def matches(got: dict, want: dict) -> bool:
    return all(got[k] == want[k] for k in want)


def test_component_uptime_counts_each_status_and_backdated_maintenance_reflows_it(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    start = clock.now
    api = add_component(clocked_client, tenant_on_clock, "API")
    path, write = f"/api/v1/components/{api['id']}", tenant_on_clock.headers("write")
    statuses = [(start, "operational")]
    for minutes, status in ((60, "partial_outage"), (30, "major_outage"), (30, "degraded_performance"),
                            (20, "operational")):
        clock.advance(minutes=minutes)
        clocked_client.patch(path, json={"status": status}, headers=write)
        statuses.append((clock.now, status))
    clock.advance(minutes=100)
    lo, hi = start - timedelta(hours=1), clock.now
    before = uptime(clocked_client, clocked_beacon, tenant_on_clock, f"{path}/uptime", lo, hi)
    assert matches(before, expected(statuses, [], lo, hi, WEIGHTS))
    assert before["major_outage_seconds"] == 1800 and before["partial_outage_seconds"] == 1800
    hours = [(lo + timedelta(hours=h), lo + timedelta(hours=h + 1)) for h in range(5)]
    assert [(i["from"], i["to"]) for i in before["intervals"]] == \
        [(iso(a), iso(b)) for a, b in hours]
    for interval, (a, b) in zip(before["intervals"], hours, strict=True):
        assert matches(interval, expected(statuses, [], a, b, WEIGHTS))

    window = (start + timedelta(minutes=75), start + timedelta(minutes=105))
    schedule(clocked_client, tenant_on_clock, *window, [api["id"]])  # both times in the past
    after = uptime(clocked_client, clocked_beacon, tenant_on_clock, f"{path}/uptime", lo, hi)
    assert matches(after, expected(statuses, [window], lo, hi, WEIGHTS))
    assert after["maintenance_seconds"] == 1800 and after["uptime_percent"] > \
        before["uptime_percent"]


def test_page_weights_change_what_partial_outages_and_degradation_cost(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    start = clock.now
    api = add_component(clocked_client, tenant_on_clock, "API")
    write = tenant_on_clock.headers("write")
    clocked_client.patch(f"/api/v1/components/{api['id']}", json={"status": "partial_outage"},
                         headers=write)
    clock.advance(minutes=30)
    clocked_client.patch(f"/api/v1/components/{api['id']}",
                         json={"status": "degraded_performance"}, headers=write)
    clock.advance(minutes=30)
    weights = {"partial_outage": 0.5, "degraded_performance": 0.25}
    response = clocked_client.patch(f"/api/v1/pages/{tenant_on_clock.page_slug}",
                                    json={"uptime_weights": weights}, headers=write)
    assert response.status_code == 200, response.text
    assert clocked_client.patch(f"/api/v1/pages/{tenant_on_clock.page_slug}",
                                json={"uptime_weights": {"partial_outage": 2}},
                                headers=write).status_code == 422
    statuses = [(start, "partial_outage"), (start + timedelta(minutes=30), "degraded_performance")]
    got = uptime(clocked_client, clocked_beacon, tenant_on_clock,
                 f"/api/v1/components/{api['id']}/uptime", start, clock.now)
    assert got["uptime_percent"] == expected(statuses, [], start, clock.now,
                                             {**WEIGHTS, **weights})["uptime_percent"] == 62.5


def test_monitor_uptime_counts_down_time_except_under_maintenance(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=60, grace_seconds=0)
    start = clock.now
    beat(clocked_client, created["token"])
    clock.advance(minutes=31)
    tick(clocked_beacon)  # down since start + 1 min
    beat(clocked_client, created["token"])  # up at start + 31 min
    tick(clocked_beacon)
    clock.advance(minutes=29)
    path = f"/api/v1/monitors/{created['id']}/uptime"
    statuses = [(start, "operational"), (start + timedelta(minutes=1), "major_outage"),
                (start + timedelta(minutes=31), "operational")]
    got = uptime(clocked_client, clocked_beacon, tenant_on_clock, path, start, clock.now)
    assert matches(got, expected(statuses, [], start, clock.now, WEIGHTS))
    assert got["major_outage_seconds"] == 1800 and got["uptime_percent"] == 50.0
    window = (start + timedelta(minutes=11), start + timedelta(minutes=21))
    schedule(clocked_client, tenant_on_clock, *window, [], monitors=[created["id"]])
    got = uptime(clocked_client, clocked_beacon, tenant_on_clock, path, start, clock.now)
    assert matches(got, expected(statuses, [window], start, clock.now, WEIGHTS))
    assert got["maintenance_seconds"] == 600


def test_uptime_ranges_are_checked(clocked_client: TestClient, clocked_beacon: Beacon,
                                   tenant_on_clock: Tenant, clock: FakeClock) -> None:
    api = add_component(clocked_client, tenant_on_clock, "API")
    settle(clocked_beacon)
    path, read = f"/api/v1/components/{api['id']}/uptime", tenant_on_clock.headers("read")
    backwards = {"from": iso(clock.now), "to": iso(clock.now - timedelta(days=1))}
    assert clocked_client.get(path, params=backwards, headers=read).status_code == 422
    too_many = {"from": iso(clock.now - timedelta(days=3650)), "to": iso(clock.now),
                "interval": "hour"}
    assert clocked_client.get(path, params=too_many, headers=read).status_code == 422
    assert clocked_client.get(path, params={"interval": "fortnight"}, headers=read
                              ).status_code == 422
    whole = clocked_client.get(path, params={"from": iso(clock.now - timedelta(days=3650))},
                               headers=read)
    assert whole.status_code == 200 and len(whole.json()["data"]["intervals"]) == 3651


def test_a_backdated_incident_changes_past_uptime_and_resolving_ends_it_now(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    start = clock.now
    api = add_component(clocked_client, tenant_on_clock, "API")
    clock.advance(hours=3)
    path = f"/api/v1/components/{api['id']}/uptime"
    assert uptime(clocked_client, clocked_beacon, tenant_on_clock, path, start,
                  clock.now)["uptime_percent"] == 100.0
    write = tenant_on_clock.headers("write")
    future = clocked_client.post(
        f"/api/v1/pages/{tenant_on_clock.page_slug}/incidents",
        json={"title": "x", "started_at": iso(clock.now + timedelta(minutes=1))}, headers=write)
    assert future.status_code == 422
    response = clocked_client.post(
        f"/api/v1/pages/{tenant_on_clock.page_slug}/incidents",
        json={"title": "API down since this morning", "impact": "major",
              "started_at": iso(start + timedelta(hours=1)),
              "components": {api["id"]: "major_outage"}}, headers=write)
    assert response.status_code == 201, response.text
    clock.advance(minutes=30)
    clocked_client.patch(f"/api/v1/incidents/{response.json()['data']['id']}",
                         json={"resolved": True}, headers=write)
    clock.advance(minutes=30)
    statuses = [(start, "operational"), (start + timedelta(hours=1), "major_outage"),
                (start + timedelta(hours=3, minutes=30), "operational")]
    got = uptime(clocked_client, clocked_beacon, tenant_on_clock, path, start, clock.now)
    assert matches(got, expected(statuses, [], start, clock.now, WEIGHTS))
    assert got["major_outage_seconds"] == 2.5 * 3600
