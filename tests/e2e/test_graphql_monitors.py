"""GraphQL `monitors` and `monitor(id, asOf)`: the same facts as the REST API, nested lists
batched, other workspaces' monitors null."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import FakeClock, Tenant, make_tenant, settle
from tests.e2e.test_heartbeats import beat, check, create_monitor

LIST = """
query ($status: MonitorStatus, $first: Int, $after: String) {
  monitors(status: $status, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id name status schedule { cron tz }
      flips(first: 5) { after reason exitStatus }
      runs { rid outcome durationMs }
      beats(first: 3) { kind body }
      failures: beats(kind: FAIL) { exitStatus }
      history { type changes { field after } } } }
  }
}
"""
BY_ID = """
query ($id: ID!, $asOf: DateTime) {
  monitor(id: $id, asOf: $asOf) { id name periodSeconds status settingsVersion }
}
"""


def gql(client: TestClient, tenant: Tenant, query: str, **variables: Any) -> dict:
    response = client.post("/graphql", json={"query": query, "variables": variables},
                           headers=tenant.headers("read"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


def test_monitors_list_with_their_flips_runs_beats_and_history(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    cron = create_monitor(clocked_client, tenant_on_clock, name="cron job",
                          schedule={"cron": "0 3 * * *", "tz": "Asia/Tokyo"})
    job = create_monitor(clocked_client, tenant_on_clock, name="etl", period_seconds=3600)
    clocked_client.get(f"/api/v1/beet/{job['token']}/start", params={"rid": "a"})
    clock.advance(seconds=3)
    clocked_client.post(f"/api/v1/beet/{job['token']}/7", params={"rid": "a"}, content=b"oops")
    beat(clocked_client, cron["token"])
    check(clocked_beacon)
    settle(clocked_beacon)
    data = gql(clocked_client, tenant_on_clock, LIST)["monitors"]
    nodes = {e["node"]["name"]: e["node"] for e in data["edges"]}
    assert nodes["cron job"]["schedule"] == {"cron": "0 3 * * *", "tz": "Asia/Tokyo"}
    assert nodes["cron job"]["status"] == "up" and nodes["cron job"]["runs"] == []
    etl = nodes["etl"]
    assert etl["status"] == "down"
    assert etl["flips"] == [{"after": "down", "reason": "exit_status", "exitStatus": 7}]
    assert etl["runs"] == [{"rid": "a", "outcome": "exit_status", "durationMs": 3000}]
    assert etl["beats"] == [{"kind": "fail", "body": "oops"}, {"kind": "start", "body": None}]
    assert etl["failures"] == [{"exitStatus": 7}] and nodes["cron job"]["failures"] == []
    assert etl["history"][0]["type"] == "Created"
    down = gql(clocked_client, tenant_on_clock, LIST, status="DOWN", first=1)["monitors"]
    assert [e["node"]["name"] for e in down["edges"]] == ["etl"]
    assert not down["pageInfo"]["hasNextPage"]


def test_a_monitor_now_and_as_it_was_and_none_for_another_workspace(
        clocked_client: TestClient, tenant_on_clock: Tenant, clock: FakeClock) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=60)
    before = clock.now.isoformat()
    clock.advance(minutes=5)
    response = clocked_client.patch(f"/api/v1/monitors/{created['id']}",
                                    json={"period_seconds": 120, "name": "renamed"},
                                    headers=tenant_on_clock.headers("write"))
    assert response.status_code == 200
    now = gql(clocked_client, tenant_on_clock, BY_ID, id=created["id"])["monitor"]
    assert (now["name"], now["periodSeconds"], now["settingsVersion"]) == ("renamed", 120, 2)
    then = gql(clocked_client, tenant_on_clock, BY_ID, id=created["id"], asOf=before)["monitor"]
    assert (then["name"], then["periodSeconds"]) == ("nightly backup", 60)
    other = make_tenant(clocked_client, name="Other", slug="other")
    assert gql(clocked_client, other, BY_ID, id=created["id"])["monitor"] is None
    assert gql(clocked_client, other, LIST)["monitors"]["edges"] == []
