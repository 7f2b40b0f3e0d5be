"""GraphQL over the telemetry read models: sessions and their timelines, exception groups, usage."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import Tenant, make_tenant

SESSION = """query($id: ID!, $first: Int, $after: String) { session(id: $id) {
  id actorId sourceApp sourceVersion startedAt endedAt endReason durationSeconds
  events(first: $first, after: $after) { edges { cursor node { eventId name timestamp properties } }
                                         pageInfo { hasNextPage endCursor } } } }"""
SESSIONS = """query($actor: String, $first: Int, $after: String) {
  sessions(actorId: $actor, first: $first, after: $after) {
    edges { node { id actorId events(first: 2) { edges { node { name } } } } }
    pageInfo { hasNextPage endCursor } } }"""
GROUPS = """query($from: DateTime!, $to: DateTime!, $app: String, $first: Int, $after: String) {
  exceptionGroups(from: $from, to: $to, sourceApp: $app, first: $first, after: $after) {
    edges { cursor node { fingerprint exceptionType message severity count actors firstSeen lastSeen
                          versions latest { stackTrace breadcrumbs } } }
    pageInfo { hasNextPage endCursor } } }"""


def ask(client: TestClient, tenant: Tenant, query: str, position: str | None = None,
        **variables: Any) -> dict[str, Any]:
    headers = tenant.headers("read", **({"X-Beacon-Min-Position": position} if position else {}))
    response = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def start(client: TestClient, tenant: Tenant, session_id: str, actor: str, started: str) -> str:
    response = client.post("/v1/events/sessions", headers=tenant.headers("ingest"), json={
        "session_id": session_id, "actor_id": actor, "source_app": "App", "source_version": "2.0",
        "started_at": started})
    return str(response.headers["X-Beacon-Position"])


def track(client: TestClient, tenant: Tenant, events: list[dict[str, Any]]) -> str:
    response = client.post("/v1/events", json=events, headers=tenant.headers("ingest"))
    assert response.status_code == 200, response.text
    return str(response.headers["X-Beacon-Position"])


def event(session_id: str | None, name: str, minute: int, actor: str = "ann") -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "category": "nav", "name": name, "actor_id": actor,
            "timestamp": f"2026-03-20T14:{minute:02d}:00Z", "session_id": session_id,
            "properties": {"step": minute}}


def test_a_session_shows_its_timeline_in_timestamp_order(client: TestClient, tenant: Tenant) -> None:
    session_id = str(uuid.uuid4())
    start(client, tenant, session_id, "ann", "2026-03-20T14:00:00Z")
    track(client, tenant, [event(session_id, "late", 30), event(session_id, "first", 5),
                           event(None, "elsewhere", 6)])
    position = track(client, tenant, [event(session_id, "middle", 10)])
    client.post("/v1/events/sessions/end", headers=tenant.headers("ingest"), json={
        "session_id": session_id, "ended_at": "2026-03-20T14:45:00Z", "end_reason": "closed"})
    body = ask(client, tenant, SESSION, position, id=session_id, first=2)
    session = body["data"]["session"]
    assert session["actorId"] == "ann" and session["startedAt"] == "2026-03-20T14:00:00.000000Z"
    events = session["events"]
    assert [e["node"]["name"] for e in events["edges"]] == ["first", "middle"]
    assert events["edges"][0]["node"]["properties"] == {"step": 5}
    assert events["pageInfo"]["hasNextPage"] is True
    rest = ask(client, tenant, SESSION, id=session_id, first=2,
               after=events["pageInfo"]["endCursor"])["data"]["session"]["events"]
    assert [e["node"]["name"] for e in rest["edges"]] == ["late"]
    assert rest["pageInfo"]["hasNextPage"] is False


def test_an_ended_session_has_its_duration(client: TestClient, beacon: Beacon, tenant: Tenant) -> None:
    session_id = str(uuid.uuid4())
    start(client, tenant, session_id, "ann", "2026-03-20T14:00:00Z")
    response = client.post("/v1/events/sessions/end", headers=tenant.headers("ingest"), json={
        "session_id": session_id, "ended_at": "2026-03-20T14:45:00Z", "end_reason": "closed"})
    session = ask(client, tenant, SESSION, response.headers["X-Beacon-Position"],
                  id=session_id)["data"]["session"]
    assert (session["endReason"], session["durationSeconds"]) == ("closed", 2700.0)
    assert session["endedAt"] == "2026-03-20T14:45:00.000000Z"


def test_sessions_list_newest_first_by_actor_with_nested_timelines(client: TestClient,
                                                                    tenant: Tenant) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    for n, session_id in enumerate(ids):
        start(client, tenant, session_id, "bob" if n < 2 else "cy", f"2026-03-2{n}T10:00:00Z")
    position = track(client, tenant, [event(ids[0], "a", 1, "bob"), event(ids[0], "b", 2, "bob"),
                                      event(ids[0], "c", 3, "bob"), event(ids[1], "z", 1, "bob")])
    page = ask(client, tenant, SESSIONS, position, actor="bob", first=1)["data"]["sessions"]
    assert [e["node"]["id"] for e in page["edges"]] == [ids[1]]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = ask(client, tenant, SESSIONS, actor="bob", first=1,
               after=page["pageInfo"]["endCursor"])["data"]["sessions"]
    (only,) = rest["edges"]
    assert only["node"]["id"] == ids[0]
    assert [e["node"]["name"] for e in only["node"]["events"]["edges"]] == ["a", "b"]
    everyone = ask(client, tenant, SESSIONS)["data"]["sessions"]["edges"]
    assert [e["node"]["actorId"] for e in everyone] == ["cy", "bob", "bob"]


def report(exception_type: str, minute: int, actor: str, version: str, line: int) -> dict[str, Any]:
    return {"exception_id": str(uuid.uuid4()), "exception_type": exception_type, "severity": "non_fatal",
            "occurred_at": f"2026-03-20T14:{minute:02d}:00Z", "actor_id": actor, "source_app": "App",
            "source_version": version, "message": f"failed after {minute} tries",
            "stack_trace": f'File "app.py", line {line}, in run', "breadcrumbs": [{"at": minute}]}


def test_exception_groups_gather_the_same_bug(client: TestClient, tenant: Tenant) -> None:
    reports = [report("ValueError", 1, "ann", "1.0", 10), report("ValueError", 5, "bob", "1.1", 12),
               report("ValueError", 9, "ann", "1.1", 14), report("KeyError", 3, "cy", "1.0", 10)]
    position = ""
    for body in reports:
        position = client.post("/v1/events/exceptions", json=body,
                                headers=tenant.headers("ingest")).headers["X-Beacon-Position"]
    window = {"from": "2026-03-20T00:00:00Z", "to": "2026-03-21T00:00:00Z"}
    groups = ask(client, tenant, GROUPS, position, **window)["data"]["exceptionGroups"]["edges"]
    top = groups[0]["node"]
    assert (top["exceptionType"], top["count"], top["actors"]) == ("ValueError", 3, 2)
    assert top["versions"] == ["1.0", "1.1"] and top["message"] == "failed after 9 tries"
    assert (top["firstSeen"], top["lastSeen"]) == ("2026-03-20T14:01:00.000000Z",
                                                   "2026-03-20T14:09:00.000000Z")
    assert top["latest"] == {"stackTrace": 'File "app.py", line 14, in run', "breadcrumbs": [{"at": 9}]}
    assert [g["node"]["exceptionType"] for g in groups] == ["ValueError", "KeyError"]
    first = ask(client, tenant, GROUPS, **window, first=1)["data"]["exceptionGroups"]
    second = ask(client, tenant, GROUPS, **window, first=1,
                 after=first["pageInfo"]["endCursor"])["data"]["exceptionGroups"]
    assert [g["node"]["count"] for g in first["edges"] + second["edges"]] == [3, 1]
    assert second["pageInfo"]["hasNextPage"] is False
    outside = ask(client, tenant, GROUPS, **{"from": "2026-03-21T00:00:00Z", "to": "2026-03-22T00:00:00Z"})
    assert outside["data"]["exceptionGroups"]["edges"] == []
    other_app = ask(client, tenant, GROUPS, **window, app="Other")
    assert other_app["data"]["exceptionGroups"]["edges"] == []


def test_usage_reports_the_quota(client: TestClient, tenant: Tenant) -> None:
    track(client, tenant, [event(None, "x", 1), event(None, "y", 2)])
    usage = ask(client, tenant, "{ usage { period limit used remaining refused } }")["data"]["usage"]
    assert (usage["limit"], usage["used"], usage["remaining"], usage["refused"]) == \
        (10_000_000, 2, 9_999_998, 0)


def test_nothing_of_another_workspace_is_visible(client: TestClient, tenant: Tenant) -> None:
    session_id = str(uuid.uuid4())
    position = start(client, tenant, session_id, "ann", "2026-03-20T14:00:00Z")
    other = make_tenant(client, name="Other", slug="other")
    assert ask(client, other, SESSION, position, id=session_id)["data"]["session"] is None
    assert ask(client, other, SESSIONS)["data"]["sessions"]["edges"] == []


def test_bad_arguments_are_clear_errors(client: TestClient, tenant: Tenant) -> None:
    backwards = ask(client, tenant, GROUPS, **{"from": "2026-03-21T00:00:00Z", "to": "2026-03-20T00:00:00Z"})
    assert backwards["errors"][0]["message"] == "`from` must be before `to`"
    bad_cursor = ask(client, tenant, GROUPS, **{"from": "2026-03-20T00:00:00Z",
                                                "to": "2026-03-21T00:00:00Z"}, after="nope")
    assert "cursor" in bad_cursor["errors"][0]["message"]
