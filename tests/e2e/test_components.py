"""Components of a status page, and incidents that name them, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import FakeClock, Tenant, data_of, make_tenant, settle


def add_component(client: TestClient, tenant: Tenant, name: str, **body: Any) -> dict:
    return data_of(client.post(f"/api/v1/pages/{tenant.page_slug}/components",
                               json={"name": name, **body}, headers=tenant.headers("write")), 201)


def component(client: TestClient, tenant: Tenant, component_id: str, **params: str) -> dict:
    return data_of(client.get(f"/api/v1/components/{component_id}", params=params,
                              headers=tenant.headers("read")))


def listed(client: TestClient, beacon: Beacon, tenant: Tenant) -> dict:
    settle(beacon)
    response = client.get(f"/api/v1/pages/{tenant.page_slug}/components",
                          headers=tenant.headers("read"))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_new_component_is_operational_and_listed_by_group_and_position(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant) -> None:
    api = add_component(clocked_client, tenant_on_clock, "API", group="Core", position=2)
    db = add_component(clocked_client, tenant_on_clock, "Database", group="Core", position=1)
    docs = add_component(clocked_client, tenant_on_clock, "Docs", description="the manual")
    assert api["status"] == "operational" and api["group"] == "Core" and api["version"] == 1
    body = listed(clocked_client, clocked_beacon, tenant_on_clock)
    assert [c["id"] for c in body["data"]] == [docs["id"], db["id"], api["id"]]
    assert body["groups"] == [{"name": None, "components": [docs["id"]]},
                              {"name": "Core", "components": [db["id"], api["id"]]}]


def test_patch_with_if_match_changes_only_what_is_sent_and_a_stale_version_is_412(
        clocked_client: TestClient, tenant_on_clock: Tenant, clock: FakeClock) -> None:
    api = add_component(clocked_client, tenant_on_clock, "API", group="Core")
    path, write = f"/api/v1/components/{api['id']}", tenant_on_clock.headers("write")
    clock.advance(minutes=5)
    response = clocked_client.patch(path, json={"status": "degraded_performance", "group": None},
                                    headers={**write, "If-Match": '"1"'})
    assert response.status_code == 200, response.text
    changed = response.json()["data"]
    assert changed["status"] == "degraded_performance" and changed["group"] is None
    assert changed["name"] == "API" and response.headers["ETag"] == '"3"'
    stale = clocked_client.patch(path, json={"name": "Public API"},
                                 headers={**write, "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "precondition_failed"
    bad = clocked_client.patch(path, json={"status": "on_fire"}, headers=write)
    assert bad.status_code == 422
    assert component(clocked_client, tenant_on_clock, api["id"])["status"] == \
        "degraded_performance"


def test_history_and_as_of_show_the_component_as_it_was(
        clocked_client: TestClient, tenant_on_clock: Tenant, clock: FakeClock) -> None:
    api = add_component(clocked_client, tenant_on_clock, "API")
    created_at = api["created_at"]
    clock.advance(hours=1)
    clocked_client.patch(f"/api/v1/components/{api['id']}", json={"status": "major_outage"},
                         headers=tenant_on_clock.headers("write"))
    assert component(clocked_client, tenant_on_clock, api["id"], as_of=created_at)["status"] == \
        "operational"
    history = clocked_client.get(f"/api/v1/components/{api['id']}/history",
                                 headers=tenant_on_clock.headers("read")).json()["data"]
    assert [h["type"] for h in history] == ["Created", "StatusChanged"]
    assert history[1]["changes"] == [{"field": "status", "before": "operational",
                                      "after": "major_outage"}]
    assert history[1]["cause"] == "manual" and history[1]["actor"]["name"] == "write key"


def test_deleting_archives_the_component_and_keeps_its_history(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant) -> None:
    api = add_component(clocked_client, tenant_on_clock, "API")
    write = tenant_on_clock.headers("write")
    assert clocked_client.delete(f"/api/v1/components/{api['id']}", headers=write
                                 ).status_code == 204
    assert listed(clocked_client, clocked_beacon, tenant_on_clock)["data"] == []
    archived = clocked_client.get(f"/api/v1/pages/{tenant_on_clock.page_slug}/components",
                                  params={"archived": "true"},
                                  headers=tenant_on_clock.headers("read")).json()["data"]
    assert [c["id"] for c in archived] == [api["id"]]
    assert component(clocked_client, tenant_on_clock, api["id"])["archived"] is True
    assert clocked_client.patch(f"/api/v1/components/{api['id']}", json={"name": "x"},
                                headers=write).status_code == 404
    history = clocked_client.get(f"/api/v1/components/{api['id']}/history",
                                 headers=tenant_on_clock.headers("read")).json()["data"]
    assert history[-1]["type"] == "Archived"


def test_incidents_set_the_components_they_name_and_resolving_returns_them(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant) -> None:
    api = add_component(clocked_client, tenant_on_clock, "API")
    db = add_component(clocked_client, tenant_on_clock, "Database")
    write = tenant_on_clock.headers("write")
    response = clocked_client.post(
        f"/api/v1/pages/{tenant_on_clock.page_slug}/incidents",
        json={"title": "Slow API", "impact": "minor", "components": {api["id"]: "partial_outage"}},
        headers=write)
    assert response.status_code == 201, response.text
    incident = response.json()["data"]
    assert set(incident) >= {"id", "title", "impact", "state", "resolved", "resolved_at",
                             "created_at", "updated_at", "updates"}
    assert component(clocked_client, tenant_on_clock, api["id"])["status"] == "partial_outage"
    path = f"/api/v1/incidents/{incident['id']}"
    clocked_client.patch(path, json={"components": {db["id"]: "degraded_performance"}},
                         headers=write)
    assert component(clocked_client, tenant_on_clock, db["id"])["status"] == \
        "degraded_performance"
    response = clocked_client.patch(path, json={"state": "resolved", "resolved": True,
                                                "components": {db["id"]: "partial_outage"}},
                                    headers=write)
    assert response.status_code == 200, response.text
    assert component(clocked_client, tenant_on_clock, api["id"])["status"] == "operational"
    assert component(clocked_client, tenant_on_clock, db["id"])["status"] == "partial_outage"


def test_an_incident_naming_an_unknown_or_foreign_component_is_422_and_saves_nothing(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant) -> None:
    other = make_tenant(clocked_client, name="Other", slug="other")
    foreign = add_component(clocked_client, other, "Their API")
    for components in ({foreign["id"]: "major_outage"}, {"not-an-id": "major_outage"}):
        response = clocked_client.post(
            f"/api/v1/pages/{tenant_on_clock.page_slug}/incidents",
            json={"title": "Outage", "components": components},
            headers=tenant_on_clock.headers("write"))
        assert response.status_code == 422, response.text
    settle(clocked_beacon)
    listed_incidents = clocked_client.get(f"/api/v1/pages/{tenant_on_clock.page_slug}/incidents",
                                          headers=tenant_on_clock.headers("read")).json()
    assert listed_incidents["total"] == 0
    assert component(clocked_client, other, foreign["id"])["status"] == "operational"
    assert clocked_client.get(f"/api/v1/components/{foreign['id']}",
                              headers=tenant_on_clock.headers("read")).status_code == 404
