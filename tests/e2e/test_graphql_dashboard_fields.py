"""The GraphQL fields the dashboard reads: every event's totals, top events, pages, sparklines."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import ADMIN, Tenant, make_tenant, settle
from tests.e2e.test_graphql_telemetry import ask, report, track

WINDOW = {"from": "2026-03-20T00:00:00Z", "to": "2026-03-23T00:00:00Z"}


def event(name: str, day: int, actor: str) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "category": "nav", "name": name, "actor_id": actor,
            "timestamp": f"2026-03-{day:02d}T10:00:00Z", "properties": {}}


def test_every_event_is_counted_when_no_event_is_named(client: TestClient, tenant: Tenant) -> None:
    position = track(client, tenant, [event("signed_up", 20, "ann"), event("paid", 20, "ann"),
                                      event("paid", 21, "bob"), event("paid", 22, "cy"),
                                      event("late", 25, "cy")])
    data = ask(client, tenant, """query($from: DateTime!, $to: DateTime!) {
        timeseries(from: $from, to: $to, interval: DAY) { bucket value }
        actors: metric(from: $from, to: $to, metric: UNIQUE_ACTORS)
        topEvents(from: $from, to: $to) { value count } }""", position, **WINDOW)["data"]
    assert [p["value"] for p in data["timeseries"]] == [2.0, 1.0, 1.0]
    assert data["actors"] == 3.0
    assert data["topEvents"] == [{"value": "paid", "count": 3.0}, {"value": "signed_up", "count": 1.0}]


def test_an_empty_event_name_is_still_refused(client: TestClient, tenant: Tenant) -> None:
    answer = ask(client, tenant, """query($from: DateTime!, $to: DateTime!) {
        timeseries(event: "", from: $from, to: $to) { value } }""", **WINDOW)
    assert answer["errors"][0]["extensions"]["code"] == "validation_error"


def test_exception_groups_carry_reports_per_day(client: TestClient, tenant: Tenant) -> None:
    position = ""
    for body in [report("ValueError", 1, "ann", "1.0", 10), report("ValueError", 2, "bob", "1.0", 10)]:
        position = client.post("/v1/events/exceptions", json=body,
                               headers=tenant.headers("ingest")).headers["X-Beacon-Position"]
    groups = ask(client, tenant, """query($from: DateTime!, $to: DateTime!) {
        exceptionGroups(from: $from, to: $to) { edges { node { count daily } } } }""",
                 position, **{"from": "2026-03-19T00:00:00Z", "to": "2026-03-22T00:00:00Z"})
    node = groups["data"]["exceptionGroups"]["edges"][0]["node"]
    assert node == {"count": 2, "daily": [0, 2, 0]}


def test_pages_lists_this_workspace_s_pages_only(client: TestClient, beacon: Beacon,
                                                  tenant: Tenant) -> None:
    other = make_tenant(client, name="Other", slug="other-page")
    response = client.post(f"/admin/v1/workspaces/{tenant.id}/pages",
                           json={"slug": "second", "name": "Second"}, headers=ADMIN)
    assert response.status_code == 201, response.text
    settle(beacon)
    pages = ask(client, tenant, "{ pages { slug name } }")["data"]["pages"]
    assert [p["slug"] for p in pages] == [tenant.page_slug, "second"]
    assert "other-page" not in [p["slug"] for p in ask(client, tenant, "{ pages { slug } }")["data"]["pages"]]
    assert [p["slug"] for p in ask(client, other, "{ pages { slug } }")["data"]["pages"]] == ["other-page"]


def test_a_monitor_s_uptime_is_read_through_graphql(client: TestClient, tenant: Tenant) -> None:
    made = client.post("/api/v1/monitors", json={"name": "nightly", "period_seconds": 3600},
                       headers=tenant.headers("write"))
    assert made.status_code == 201, made.text
    monitor = made.json()["data"]
    answer = ask(client, tenant, """query($id: ID!) { monitor(id: $id) {
        uptime(interval: "day") { uptimePercent majorOutageSeconds
                                  intervals { from to uptimePercent } } } }""",
                 made.headers["X-Beacon-Position"], id=monitor["id"])
    uptime = answer["data"]["monitor"]["uptime"]
    assert uptime["majorOutageSeconds"] == 0 and len(uptime["intervals"]) == 1
    refused = ask(client, tenant, """query($id: ID!) { monitor(id: $id) { uptime(interval: "year") {
        uptimePercent } } }""", id=monitor["id"])
    assert refused["errors"][0]["extensions"]["code"] == "validation_error"


def test_members_and_deploy_history_read_through_graphql(client: TestClient, beacon: Beacon) -> None:
    owner = beacon.workspaces.create_user(email="owner@example.com", password="long enough password")
    workspace, keys = beacon.workspaces.create_project(name="Team", slug="team", owner=owner)
    secret = {"Authorization": f"Bearer {keys['secret'][1]}"}
    public = {"Authorization": f"Bearer {keys['public'][1]}"}
    query = "{ members { email role } deploys { version author { name } } }"
    answer = client.post("/graphql", json={"query": query}, headers=secret).json()
    assert answer["data"] == {"members": [{"email": "owner@example.com", "role": "owner"}],
                              "deploys": []}
    read_key = client.post(f"/admin/v1/workspaces/{workspace.id}/keys", headers=ADMIN,
                           json={"name": "reader", "scopes": ["read"]}).json()["data"]["key"]
    refused = client.post("/graphql", json={"query": "{ deploys { version } }"},
                          headers={"Authorization": f"Bearer {read_key}"}).json()
    assert refused["errors"][0]["extensions"]["code"] == "forbidden"
    assert client.post("/graphql", json={"query": query}, headers=public).status_code == 403
