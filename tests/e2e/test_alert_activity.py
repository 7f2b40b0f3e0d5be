"""The workspace's alert activity: every rule's firings, late tellings and resolutions, newest
first, over REST and GraphQL, in a time range, paged, and never another workspace's; filled from
the whole Alerts log by a rebuild as at a first start."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import FakeClock, Tenant, make_tenant, settle
from tests.e2e.test_alerts import create, evaluate, receiver, track  # noqa: F401 (a fixture)
from tests.receiver import Receiver


def activity(client: TestClient, tenant: Tenant, **params: Any) -> Any:
    settle(client.app.state.beacon)  # type: ignore[attr-defined]  # what the projector does soon
    response = client.get("/api/v1/alerts/activity", params=params,
                          headers=tenant.headers("read"))
    assert response.status_code == 200, response.text
    return response.json()


def test_firings_and_resolutions_of_every_rule_are_listed_newest_first(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:  # noqa: F811
    client, tenant, beacon = clocked_client, tenant_on_clock, clocked_beacon
    checkouts = create(client, tenant, receiver.url)
    renamed = create(client, tenant, receiver.url, value=4)
    clock.advance(seconds=5)
    track(client, tenant, clock, 3)  # 12:00:05: the first rule fires (3 > 2)
    evaluate(beacon)
    clock.advance(seconds=10)
    track(client, tenant, clock, 3)  # 12:00:15: six in the window, the second fires too
    evaluate(beacon)
    clock.advance(seconds=65)  # the window empties, a grid instant at a time
    evaluate(beacon)  # now 12:01:20: the last resolution is at this very moment, and listed
    client.patch(f"/api/v1/alerts/{renamed['id']}", headers=tenant.headers("write"),
                 json={"name": "Checkouts failing a lot"})

    listed = activity(client, tenant)
    entries = [(e["alert"]["id"], e["state"], e["at"][11:19], e["value"]) for e in listed["data"]]
    assert entries == [  # the second rule resolves first: at 12:01:10 three are left (3 <= 4)
        (checkouts["id"], "resolved", "12:01:20", 0.0), (renamed["id"], "resolved", "12:01:10", 3.0),
        (renamed["id"], "firing", "12:00:15", 6.0), (checkouts["id"], "firing", "12:00:05", 3.0)]
    names = {e["alert"]["id"]: e["alert"]["name"] for e in listed["data"]}
    assert names[renamed["id"]] == "Checkouts failing a lot"  # as it is called now
    assert listed["data"][-1]["notified"] == [checkouts["channels"][0]["id"]]

    # A range, and pages that follow one another with no gap and no repeat.
    early = activity(client, tenant, **{"from": "2026-04-04T12:00:00Z", "to": "2026-04-04T12:00:10Z"})
    assert [e["value"] for e in early["data"]] == [3.0]
    first = activity(client, tenant, limit=3)
    rest = activity(client, tenant, limit=3, cursor=first["next_cursor"])
    assert first["has_more"] and not rest["has_more"]
    assert [(e["alert"]["id"], e["version"]) for e in first["data"] + rest["data"]] == \
        [(e["alert"]["id"], e["version"]) for e in listed["data"]]
    bad = client.get("/api/v1/alerts/activity", params={"cursor": "bm9wZQ"},
                     headers=tenant.headers("read"))
    assert bad.status_code == 400
    # A range's edge at the first moment there is: no day before it, nothing in it.
    assert activity(client, tenant, to="0001-01-01T00:00:00Z")["data"] == []
    assert activity(client, tenant, to="0001-01-01T12:00:00Z")["data"] == []

    query = ("{ alertActivity(first: 2) { edges { node { alertId alertName state value } } "
             "pageInfo { hasNextPage } } }")
    data = client.post("/graphql", json={"query": query}, headers=tenant.headers("read")).json()
    assert [e["node"]["state"] for e in data["data"]["alertActivity"]["edges"]] == \
        ["resolved", "resolved"]
    assert data["data"]["alertActivity"]["pageInfo"]["hasNextPage"] is True
    earliest = client.post("/graphql", headers=tenant.headers("read"), json={"query": (
        '{ alertActivity(to: "0001-01-01T00:00:00Z") { edges { node { state } } } }')}).json()
    assert earliest == {"data": {"alertActivity": {"edges": []}}}

    other = make_tenant(client, name="Globex", slug="globex")
    assert activity(client, other)["data"] == []

    # A rebuild (as a first start of the projection on an older installation) makes the same list.
    beacon.rebuild("alert_activity")
    assert activity(client, tenant)["data"] == listed["data"]
