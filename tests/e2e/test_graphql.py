"""The GraphQL API at /graphql: incidents by id (now and as of a moment), a page's incidents as
a connection, their updates and history, authentication, and limits on what a query may ask."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from graphql import get_introspection_query

from interfaces.bootstrap import Beacon
from tests.conftest import Tenant, make_tenant

INCIDENT_FIELDS = """
    id pageSlug title impact state resolved resolvedAt createdAt updatedAt version
    updates { id message createdAt }
    history { version type occurredAt actor { keyId name } changes { field before after } }
"""
BY_ID = f"""
query ($id: ID!, $asOf: DateTime) {{
  incident(id: $id, asOf: $asOf) {{ {INCIDENT_FIELDS} }}
}}
"""
LIST = """
query ($page: String!, $state: IncidentState, $first: Int, $after: String) {
  incidents(pageSlug: $page, state: $state, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id title state updates { message } } }
  }
}
"""


class Writer:
    """Writes through the REST API and remembers where its last write landed."""

    def __init__(self, client: TestClient, tenant: Tenant):
        self.client, self.tenant, self.position = client, tenant, ""

    def _done(self, response: httpx.Response, status: int) -> dict[str, Any]:
        assert response.status_code == status, response.text
        self.position = response.headers["X-Beacon-Position"]
        data: dict[str, Any] = response.json()["data"]
        return data

    def open(self, title: str, **fields: Any) -> dict[str, Any]:
        response = self.client.post(f"/api/v1/pages/{self.tenant.page_slug}/incidents",
                                    json={"title": title, **fields},
                                    headers=self.tenant.headers("write"))
        return self._done(response, 201)

    def change(self, incident_id: str, **fields: Any) -> dict[str, Any]:
        response = self.client.patch(f"/api/v1/incidents/{incident_id}", json=fields,
                                     headers=self.tenant.headers("write"))
        return self._done(response, 200)

    def post_update(self, incident_id: str, message: str) -> dict[str, Any]:
        response = self.client.post(f"/api/v1/incidents/{incident_id}/updates",
                                    json={"message": message},
                                    headers=self.tenant.headers("write"))
        return self._done(response, 201)


def ask(client: TestClient, tenant: Tenant, query: str, scope: str = "read",
        position: str = "", **variables: Any) -> httpx.Response:
    headers = tenant.headers(scope)
    if position:
        headers["X-Beacon-Min-Position"] = position
    return client.post("/graphql", json={"query": query, "variables": variables},
                       headers=headers)


def data_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("errors") is None, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def error_messages(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [error["message"] for error in response.json()["errors"]]


@pytest.fixture
def writer(client: TestClient, tenant: Tenant) -> Writer:
    return Writer(client, tenant)


def test_an_incident_shows_its_updates_and_history_with_who_changed_what(
        client: TestClient, tenant: Tenant, writer: Writer) -> None:
    opened = writer.open("API errors", impact="major", message="Looking into it")
    writer.change(opened["id"], state="identified", impact="critical")

    found = data_of(ask(client, tenant, BY_ID, id=opened["id"]))["incident"]

    assert found["id"] == opened["id"]
    assert found["pageSlug"] == tenant.page_slug
    assert (found["title"], found["impact"], found["state"]) == \
        ("API errors", "CRITICAL", "IDENTIFIED")
    assert found["resolved"] is False and found["resolvedAt"] is None
    assert found["createdAt"] == opened["created_at"]
    assert found["version"] == 3
    assert [u["message"] for u in found["updates"]] == ["Looking into it"]
    assert found["updates"][0]["id"] == opened["updates"][0]["id"]
    assert [h["type"] for h in found["history"]] == ["Opened", "UpdatePosted", "Changed"]
    change = found["history"][-1]
    assert change["version"] == 3
    assert change["actor"] == {"keyId": tenant.key_ids["write"], "name": "write key"}
    assert {c["field"]: (c["before"], c["after"]) for c in change["changes"]} == {
        "state": ("investigating", "identified"), "impact": ("major", "critical")}


def test_resolving_shows_resolved_at_in_history_as_an_iso_timestamp(
        client: TestClient, tenant: Tenant, writer: Writer) -> None:
    opened = writer.open("Queue backlog")
    resolved = writer.change(opened["id"], resolved=True)

    found = data_of(ask(client, tenant, BY_ID, id=opened["id"]))["incident"]

    assert found["resolved"] is True and found["state"] == "RESOLVED"
    assert found["resolvedAt"] == resolved["resolved_at"]
    last = found["history"][-1]
    assert last["type"] == "Resolved"
    assert {c["field"]: c["after"] for c in last["changes"]}["resolved_at"] == \
        resolved["resolved_at"]


def test_as_of_shows_an_incident_as_it_was_before_a_change(
        client: TestClient, tenant: Tenant, writer: Writer) -> None:
    opened = writer.open("Slow dashboards", message="Investigating")
    writer.post_update(opened["id"], "Found a slow query")
    writer.change(opened["id"], state="monitoring", title="Slow dashboards (fixed)")

    then = data_of(ask(client, tenant, BY_ID, id=opened["id"],
                       asOf=opened["created_at"]))["incident"]
    now = data_of(ask(client, tenant, BY_ID, id=opened["id"]))["incident"]

    assert (then["title"], then["state"], then["version"]) == \
        ("Slow dashboards", "INVESTIGATING", 2)
    assert [u["message"] for u in then["updates"]] == ["Investigating"]
    assert [h["type"] for h in then["history"]] == ["Opened", "UpdatePosted"]
    assert (now["title"], now["state"]) == ("Slow dashboards (fixed)", "MONITORING")
    assert [u["message"] for u in now["updates"]] == ["Investigating", "Found a slow query"]


def test_as_of_before_an_incident_existed_is_null(
        client: TestClient, tenant: Tenant, writer: Writer) -> None:
    opened = writer.open("Not yet")

    found = ask(client, tenant, BY_ID, id=opened["id"], asOf="2000-01-01T00:00:00Z")

    assert data_of(found) == {"incident": None}


def test_as_of_without_a_utc_offset_is_an_error(
        client: TestClient, tenant: Tenant, writer: Writer) -> None:
    opened = writer.open("Ambiguous")

    messages = error_messages(ask(client, tenant, BY_ID, id=opened["id"],
                                  asOf="2026-04-04T14:32:00"))

    assert any("UTC offset" in m for m in messages), messages


def test_an_unknown_or_malformed_incident_id_is_null(client: TestClient, tenant: Tenant) -> None:
    unknown = ask(client, tenant, BY_ID, id="6f1c0c37-3b4e-4f6b-9a55-0d6b3c1c9f10")
    malformed = ask(client, tenant, BY_ID, id="not-a-uuid")

    assert data_of(unknown) == {"incident": None}
    assert data_of(malformed) == {"incident": None}


def test_incidents_are_listed_newest_first_and_paged_with_cursors(
        client: TestClient, tenant: Tenant, writer: Writer) -> None:
    titles = ["first", "second", "third"]
    for title in titles:
        writer.open(title, message=f"{title} update")

    everything = data_of(ask(client, tenant, LIST, position=writer.position,
                             page=tenant.page_slug))["incidents"]
    assert [e["node"]["title"] for e in everything["edges"]] == ["third", "second", "first"]
    assert [e["node"]["updates"] for e in everything["edges"]] == \
        [[{"message": f"{t} update"}] for t in reversed(titles)]
    assert everything["totalCount"] == 3
    assert everything["pageInfo"]["hasNextPage"] is False

    walked, after, pages = [], None, 0
    while True:
        page = data_of(ask(client, tenant, LIST, page=tenant.page_slug, first=1,
                           after=after))["incidents"]
        pages += 1
        assert page["totalCount"] == 3
        assert len(page["edges"]) == 1
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        walked.append(page["edges"][0]["node"]["title"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert walked == ["third", "second", "first"]
    assert pages == 3


def test_a_page_without_incidents_is_an_empty_connection(
        client: TestClient, tenant: Tenant) -> None:
    empty = data_of(ask(client, tenant, LIST, page=tenant.page_slug))["incidents"]

    assert empty == {"totalCount": 0, "edges": [],
                     "pageInfo": {"hasNextPage": False, "endCursor": None}}


def test_incidents_can_be_filtered_by_state(
        client: TestClient, tenant: Tenant, writer: Writer) -> None:
    writer.open("still open")
    done = writer.open("all good now")
    writer.change(done["id"], resolved=True)

    resolved = data_of(ask(client, tenant, LIST, position=writer.position,
                           page=tenant.page_slug, state="RESOLVED"))["incidents"]
    investigating = data_of(ask(client, tenant, LIST, page=tenant.page_slug,
                                state="INVESTIGATING"))["incidents"]

    assert [(e["node"]["title"], e["node"]["state"]) for e in resolved["edges"]] == \
        [("all good now", "RESOLVED")]
    assert resolved["totalCount"] == 1
    assert [e["node"]["title"] for e in investigating["edges"]] == ["still open"]


def test_listed_incidents_load_their_updates_in_one_batch(
        client: TestClient, tenant: Tenant, writer: Writer, beacon: Beacon,
        monkeypatch: pytest.MonkeyPatch) -> None:
    for title in ("a", "b", "c"):
        writer.open(title, message=f"{title} said")
    calls: list[int] = []
    real = beacon.incidents.updates_for

    def counting(ids: list[Any]) -> Any:
        calls.append(len(ids))
        return real(ids)

    monkeypatch.setattr(beacon.incidents, "updates_for", counting)

    listed = data_of(ask(client, tenant, LIST, position=writer.position,
                         page=tenant.page_slug))["incidents"]

    assert [e["node"]["updates"][0]["message"] for e in listed["edges"]] == \
        ["c said", "b said", "a said"]
    assert calls == [3]


def test_listed_incidents_show_their_history(
        client: TestClient, tenant: Tenant, writer: Writer) -> None:
    quiet = writer.open("quiet")
    busy = writer.open("busy")
    writer.change(busy["id"], impact="minor")
    query = """query ($page: String!) { incidents(pageSlug: $page) {
        edges { node { id history { type actor { name } } } } } }"""

    listed = data_of(ask(client, tenant, query, position=writer.position,
                         page=tenant.page_slug))["incidents"]

    assert {e["node"]["id"]: [h["type"] for h in e["node"]["history"]]
            for e in listed["edges"]} == {quiet["id"]: ["Opened"],
                                          busy["id"]: ["Opened", "Changed"]}
    assert listed["edges"][0]["node"]["history"][-1]["actor"] == {"name": "write key"}


def test_a_read_that_cannot_catch_up_is_marked_stale(
        client: TestClient, tenant: Tenant, beacon: Beacon,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(beacon, "wait_for", lambda *_: False)

    response = ask(client, tenant, "{ __typename }", position="StatusPages:999999")

    assert data_of(response) == {"__typename": "Query"}
    assert response.headers["X-Beacon-Stale"] == "true"


def test_an_unexpected_failure_is_an_internal_error_without_details(
        client: TestClient, tenant: Tenant, beacon: Beacon,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("connection to 10.0.0.7 refused")

    monkeypatch.setattr(beacon.incidents, "list_incidents", broken)

    response = ask(client, tenant, LIST, page=tenant.page_slug)

    assert response.json()["errors"] == [{
        "message": "internal error", "locations": [{"line": 3, "column": 3}],
        "path": ["incidents"], "extensions": {"code": "internal_error"}}]


def test_a_body_that_is_not_json_is_a_malformed_json_error(
        client: TestClient, tenant: Tenant) -> None:
    response = client.post("/graphql", content=b"{not json",
                           headers=tenant.headers("read", **{"Content-Type": "application/json"}))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


def test_an_unknown_page_is_an_error(client: TestClient, tenant: Tenant) -> None:
    response = ask(client, tenant, LIST, page="no-such-page")

    assert response.json()["data"] is None
    assert response.json()["errors"][0]["message"] == "page not found"
    assert response.json()["errors"][0]["extensions"]["code"] == "page_not_found"


def test_another_workspaces_incidents_and_pages_are_not_visible(
        client: TestClient, tenant: Tenant, writer: Writer) -> None:
    ours = writer.open("ours")
    other = make_tenant(client, name="Other", slug="other")
    theirs = Writer(client, other).open("theirs")

    assert data_of(ask(client, tenant, BY_ID, id=theirs["id"])) == {"incident": None}
    assert data_of(ask(client, other, BY_ID, id=ours["id"])) == {"incident": None}
    assert error_messages(ask(client, tenant, LIST, page="other")) == ["page not found"]


def test_a_request_without_a_key_is_unauthorized(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "{ __typename }"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_an_unknown_key_is_unauthorized(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "{ __typename }"},
                           headers={"Authorization": "Bearer bkn_live_nope"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_an_ingest_key_is_forbidden(client: TestClient, tenant: Tenant) -> None:
    response = ask(client, tenant, "{ __typename }", scope="ingest")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_a_write_key_may_query(client: TestClient, tenant: Tenant) -> None:
    assert data_of(ask(client, tenant, "{ __typename }", scope="write")) == \
        {"__typename": "Query"}


def test_a_malformed_min_position_is_a_bad_request(client: TestClient, tenant: Tenant) -> None:
    response = ask(client, tenant, "{ __typename }", position="nonsense")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_queries_may_be_sent_with_get(client: TestClient, tenant: Tenant) -> None:
    response = client.get("/graphql", params={"query": "{ __typename }"},
                          headers=tenant.headers("read"))

    assert data_of(response) == {"__typename": "Query"}


def test_a_browser_gets_graphiql(client: TestClient) -> None:
    response = client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def test_an_over_deep_query_is_refused(client: TestClient, tenant: Tenant) -> None:
    nested = "name"
    for field in ("a", "b", "c", "d", "e", "f", "g"):
        nested = f"{field} {{ {nested} }}"
    query = f"""{{ incidents(pageSlug: "x") {{ edges {{ node {{ history {{
        actor {{ {nested} }} }} }} }} }} }}"""

    messages = error_messages(ask(client, tenant, query))

    assert "'anonymous' exceeds maximum operation depth of 10" in messages


def test_a_deeply_nested_introspection_query_is_refused(
        client: TestClient, tenant: Tenant) -> None:
    query = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"

    messages = error_messages(ask(client, tenant, query))

    assert messages == ["Maximum introspection depth exceeded"]


def test_the_standard_introspection_query_that_tools_send_is_answered(
        client: TestClient, tenant: Tenant) -> None:
    schema = data_of(ask(client, tenant, get_introspection_query(descriptions=True)))["__schema"]

    assert schema["queryType"]["name"] == "Query"
    assert {"Incident", "IncidentConnection", "HistoryEntry"} <= \
        {t["name"] for t in schema["types"]}


def test_too_many_aliases_are_refused(client: TestClient, tenant: Tenant) -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(16))

    messages = error_messages(ask(client, tenant, f"{{ {aliases} }}"))

    assert messages == ["16 aliases found. Allowed: 15"]


def test_fifteen_aliases_are_allowed(client: TestClient, tenant: Tenant) -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(15))

    assert len(data_of(ask(client, tenant, f"{{ {aliases} }}"))) == 15


@pytest.mark.parametrize("first", [0, -5, 1001])
def test_first_must_be_between_1_and_1000(client: TestClient, tenant: Tenant, first: int) -> None:
    response = ask(client, tenant, LIST, page=tenant.page_slug, first=first)

    assert error_messages(response) == [f"first must be between 1 and 1000, got {first}"]
    assert response.json()["errors"][0]["extensions"]["code"] == "bad_request"


def test_a_cursor_this_api_did_not_issue_is_an_error(client: TestClient, tenant: Tenant) -> None:
    messages = error_messages(ask(client, tenant, LIST, page=tenant.page_slug,
                                  after="!!not-a-cursor!!"))

    assert messages == ["after is not a cursor this API issued"]
