"""Scheduled maintenance with a hand-driven clock, and monitors that components follow."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from interfaces.rest.representations import iso
from tests.conftest import FakeClock, Tenant, make_tenant, settle
from tests.e2e.test_components import add_component, component
from tests.e2e.test_heartbeats import beat, create_monitor


def schedule(client: TestClient, tenant: Tenant, start: datetime, end: datetime,
             components: list[str], **body: Any) -> dict:
    response = client.post(f"/api/v1/pages/{tenant.page_slug}/maintenances", json={
        "title": "Database upgrade", "scheduled_for": iso(start), "scheduled_until": iso(end),
        "components": components, **body}, headers=tenant.headers("write"))
    assert response.status_code == 201, response.text
    return response.json()["data"]


def maintenance(client: TestClient, tenant: Tenant, maintenance_id: str) -> dict:
    response = client.get(f"/api/v1/maintenances/{maintenance_id}",
                          headers=tenant.headers("read"))
    assert response.status_code == 200, response.text
    return response.json()["data"]


def tick(beacon: Beacon) -> None:
    """What the scheduler does every few seconds: read models caught up, then the checks."""
    settle(beacon)
    beacon.jobs.check_monitors()
    settle(beacon)


def test_maintenance_starts_and_completes_on_time_even_when_the_scheduler_runs_late(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    db = add_component(clocked_client, tenant_on_clock, "Database")
    start, end = clock.now + timedelta(hours=1), clock.now + timedelta(hours=2)
    planned = schedule(clocked_client, tenant_on_clock, start, end, [db["id"]],
                       message="We will upgrade the primary.")
    assert planned["state"] == "scheduled" and planned["updates"][0]["message"]
    tick(clocked_beacon)
    assert maintenance(clocked_client, tenant_on_clock, planned["id"])["state"] == "scheduled"
    clock.advance(hours=1, minutes=7)  # the scheduler was 7 minutes late
    tick(clocked_beacon)
    started = maintenance(clocked_client, tenant_on_clock, planned["id"])
    assert started["state"] == "in_progress" and started["started_at"] == iso(start)
    assert component(clocked_client, tenant_on_clock, db["id"])["status"] == "under_maintenance"
    clock.advance(hours=3)
    tick(clocked_beacon)
    done = maintenance(clocked_client, tenant_on_clock, planned["id"])
    assert done["state"] == "completed" and done["ended_at"] == iso(end)
    assert component(clocked_client, tenant_on_clock, db["id"])["status"] == "operational"
    history = clocked_client.get(f"/api/v1/maintenances/{planned['id']}/history",
                                 headers=tenant_on_clock.headers("read")).json()["data"]
    moves = [(h["changes"][0]["after"], h["effective_at"], h["actor"]["name"])
             for h in history if h["type"] == "StateChanged"]
    assert moves == [("in_progress", iso(start), "scheduler"),
                     ("completed", iso(end), "scheduler")]


def test_manual_transitions_verifying_cancelling_and_what_is_refused(
        clocked_client: TestClient, tenant_on_clock: Tenant, clock: FakeClock) -> None:
    db = add_component(clocked_client, tenant_on_clock, "Database")
    write = tenant_on_clock.headers("write")
    planned = schedule(clocked_client, tenant_on_clock, clock.now + timedelta(hours=1),
                       clock.now + timedelta(hours=2), [db["id"]], auto_start=False)
    path = f"/api/v1/maintenances/{planned['id']}"
    assert clocked_client.patch(path, json={"state": "verifying"}, headers=write
                                ).status_code == 409
    for state in ("in_progress", "verifying", "completed"):
        clock.advance(minutes=10)
        response = clocked_client.patch(path, json={"state": state}, headers=write)
        assert response.status_code == 200, response.text
    assert clocked_client.patch(path, json={"state": "in_progress"}, headers=write
                                ).status_code == 409
    stale = clocked_client.patch(path, json={"title": "x"}, headers={**write, "If-Match": '"1"'})
    assert stale.status_code == 412
    update = clocked_client.post(f"{path}/updates", json={"message": "All done."}, headers=write)
    assert update.status_code == 201 and update.json()["data"]["id"].startswith("upd_")
    cancelled = schedule(clocked_client, tenant_on_clock, clock.now + timedelta(hours=1),
                         clock.now + timedelta(hours=2), [db["id"]])
    response = clocked_client.patch(f"/api/v1/maintenances/{cancelled['id']}",
                                    json={"state": "cancelled"}, headers=write)
    assert response.json()["data"]["state"] == "cancelled"


def test_bad_windows_and_foreign_components_are_422(
        clocked_client: TestClient, tenant_on_clock: Tenant, clock: FakeClock) -> None:
    db = add_component(clocked_client, tenant_on_clock, "Database")
    path = f"/api/v1/pages/{tenant_on_clock.page_slug}/maintenances"
    write = tenant_on_clock.headers("write")
    backwards = {"title": "x", "scheduled_for": iso(clock.now + timedelta(hours=2)),
                 "scheduled_until": iso(clock.now + timedelta(hours=1)), "components": [db["id"]]}
    assert clocked_client.post(path, json=backwards, headers=write).status_code == 422
    unknown = {**backwards, "scheduled_until": iso(clock.now + timedelta(hours=3)),
               "components": ["7a0c1bd4-07c6-4d44-9f43-2a4f3f3d1c11"]}
    assert clocked_client.post(path, json=unknown, headers=write).status_code == 422


def test_a_linked_component_follows_its_monitor_down_and_back(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=60, grace_seconds=30)
    api = add_component(clocked_client, tenant_on_clock, "API", monitor_id=created["id"])
    beat(clocked_client, created["token"])
    last_beat = clock.now
    clock.advance(minutes=5)
    tick(clocked_beacon)
    assert component(clocked_client, tenant_on_clock, api["id"])["status"] == "major_outage"
    clock.advance(minutes=5)
    beat(clocked_client, created["token"])
    back_at = clock.now
    clock.advance(seconds=10)
    tick(clocked_beacon)
    assert component(clocked_client, tenant_on_clock, api["id"])["status"] == "operational"
    history = clocked_client.get(f"/api/v1/components/{api['id']}/history",
                                 headers=tenant_on_clock.headers("read")).json()["data"]
    flips = [(h["changes"][0]["after"], h["effective_at"], h["cause"])
             for h in history if h["type"] == "StatusChanged"]
    assert flips == [("major_outage", iso(last_beat + timedelta(seconds=90)), "monitor"),
                     ("operational", iso(back_at), "monitor")]


def test_a_monitor_under_maintenance_opens_no_incident_until_the_maintenance_ends(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=60,
                             grace_seconds=30, page_slug=tenant_on_clock.page_slug)
    api = add_component(clocked_client, tenant_on_clock, "API", monitor_id=created["id"])
    beat(clocked_client, created["token"])
    window = schedule(clocked_client, tenant_on_clock, clock.now, clock.now + timedelta(hours=1),
                      [api["id"]])
    assert window["state"] == "in_progress"
    clock.advance(minutes=10)
    tick(clocked_beacon)
    incidents = f"/api/v1/pages/{tenant_on_clock.page_slug}/incidents"
    read = tenant_on_clock.headers("read")
    assert clocked_client.get(incidents, headers=read).json()["total"] == 0
    assert component(clocked_client, tenant_on_clock, api["id"])["status"] == "under_maintenance"
    clock.advance(hours=1)
    tick(clocked_beacon)
    tick(clocked_beacon)
    assert clocked_client.get(incidents, headers=read).json()["total"] == 1
    assert component(clocked_client, tenant_on_clock, api["id"])["status"] == "major_outage"


def test_another_workspaces_maintenance_components_and_uptime_are_404(
        clocked_client: TestClient, tenant_on_clock: Tenant, clock: FakeClock) -> None:
    db = add_component(clocked_client, tenant_on_clock, "Database")
    mine = schedule(clocked_client, tenant_on_clock, clock.now + timedelta(hours=1),
                    clock.now + timedelta(hours=2), [db["id"]])
    monitor = create_monitor(clocked_client, tenant_on_clock, period_seconds=60)
    other = make_tenant(clocked_client, name="Other", slug="other")
    read, write = other.headers("read"), other.headers("write")
    for path in (f"/api/v1/maintenances/{mine['id']}", f"/api/v1/maintenances/{mine['id']}/history",
                 f"/api/v1/components/{db['id']}/uptime", f"/api/v1/components/{db['id']}/history",
                 f"/api/v1/monitors/{monitor['id']}/uptime"):
        assert clocked_client.get(path, headers=read).status_code == 404, path
    assert clocked_client.patch(f"/api/v1/maintenances/{mine['id']}", json={"title": "x"},
                                headers=write).status_code == 404
    borrowed = clocked_client.post(f"/api/v1/pages/{other.page_slug}/maintenances", json={
        "title": "x", "scheduled_for": iso(clock.now), "scheduled_until": iso(clock.now + timedelta(hours=1)),
        "components": [db["id"]]}, headers=write)
    assert borrowed.status_code == 422
