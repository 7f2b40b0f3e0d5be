"""Webhooks about components and maintenance, and subscribers that choose components."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import FakeClock, Tenant
from tests.e2e.test_components import add_component
from tests.e2e.test_maintenance import schedule, tick
from tests.e2e.test_webhooks import dispatch, open_incident, patch, subscribe
from tests.receiver import Receiver


@pytest.fixture
def everything() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def api_only() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def types(receiver: Receiver) -> list[str]:
    return [r.json["type"] for r in receiver.received]


def test_component_and_maintenance_events_are_delivered_signed_through_the_outbox(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        everything: Receiver, clock: FakeClock) -> None:
    subscriber = subscribe(clocked_client, tenant_on_clock, everything.url)
    api = add_component(clocked_client, tenant_on_clock, "API")
    clocked_client.patch(f"/api/v1/components/{api['id']}", json={"status": "degraded_performance"},
                         headers=tenant_on_clock.headers("write"))
    clock.advance(minutes=1)
    start = clock.now + timedelta(minutes=9)
    schedule(clocked_client, tenant_on_clock, start, start + timedelta(minutes=30), [api["id"]],
             message="Upgrading.")
    clock.advance(hours=1)
    tick(clocked_beacon)
    dispatch(clocked_beacon)
    assert types(everything) == ["component.updated", "maintenance.scheduled",
                                 "maintenance.update_posted", "maintenance.started",
                                 "maintenance.completed"]
    assert all(r.signed_with(subscriber["secret"]) for r in everything.received)
    updated = everything.received[0].json
    assert updated["component"]["status"] == "degraded_performance"
    assert updated["changes"]["status"]["before"] == "operational"
    started = everything.received[3].json
    assert started["maintenance"]["state"] == "in_progress"
    assert started["changes"]["state"]["effective_at"] == "2026-04-04T12:10:00.000000Z"


def test_a_subscriber_of_components_gets_only_what_touches_them(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        everything: Receiver, api_only: Receiver, clock: FakeClock) -> None:
    api = add_component(clocked_client, tenant_on_clock, "API")
    db = add_component(clocked_client, tenant_on_clock, "Database")
    subscribe(clocked_client, tenant_on_clock, everything.url)
    chosen = subscribe(clocked_client, tenant_on_clock, api_only.url, components=[api["id"]])
    assert chosen["components"] == [api["id"]]
    elsewhere = open_incident(clocked_client, tenant_on_clock, components={db["id"]: "major_outage"})
    on_api = open_incident(clocked_client, tenant_on_clock, title="API errors",
                           components={api["id"]: "partial_outage"})
    later = open_incident(clocked_client, tenant_on_clock, title="Spreads")
    clock.advance(minutes=5)
    patch(clocked_client, tenant_on_clock, later["id"], state="identified",
          components={api["id"]: "degraded_performance"})
    patch(clocked_client, tenant_on_clock, elsewhere["id"], resolved=True, state="resolved")
    schedule(clocked_client, tenant_on_clock, clock.now + timedelta(days=1),
             clock.now + timedelta(days=1, hours=1), [db["id"]])
    dispatch(clocked_beacon)
    assert {r.json.get("incident", {}).get("id") for r in api_only.received} >= \
        {on_api["id"], later["id"]}
    assert all(r.json.get("incident", {}).get("id") != elsewhere["id"]
               for r in api_only.received)
    assert all(r.json.get("component", {}).get("id", api["id"]) == api["id"]
               for r in api_only.received)
    assert not any(t.startswith("maintenance.") for t in types(api_only))
    assert types(api_only).count("incident.changed") == 1  # the PATCH that named API
    assert len(everything.received) > len(api_only.received)
    assert any(r.json.get("incident", {}).get("id") == elsewhere["id"]
               for r in everything.received)


def test_choosing_a_component_of_another_page_is_422(
        clocked_client: TestClient, tenant_on_clock: Tenant, everything: Receiver) -> None:
    response = clocked_client.post(
        f"/api/v1/pages/{tenant_on_clock.page_slug}/subscribers",
        json={"url": everything.url, "components": ["7a0c1bd4-07c6-4d44-9f43-2a4f3f3d1c11"]},
        headers=tenant_on_clock.headers("write"))
    assert response.status_code == 422
