"""Sessions and exception reports (seed 000) through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import FakeClock, Tenant, make_tenant


def start(client: TestClient, tenant: Tenant, session_id: str, **overrides: Any) -> Any:
    body = {"session_id": session_id, "actor_id": "user-1", "source_app": "MyApp",
            "source_version": "1.2.0", "started_at": "2026-03-20T14:00:00Z", **overrides}
    return client.post("/v1/events/sessions", json=body, headers=tenant.headers("ingest"))


def end(client: TestClient, tenant: Tenant, session_id: str, ended_at: str = "2026-03-20T14:30:00Z",
        reason: str = "user_closed") -> Any:
    return client.post("/v1/events/sessions/end", headers=tenant.headers("ingest"),
                       json={"session_id": session_id, "ended_at": ended_at, "end_reason": reason})


def test_starting_a_session_is_idempotent(client: TestClient, tenant: Tenant) -> None:
    session_id = str(uuid.uuid4())
    first, again = start(client, tenant, session_id), start(client, tenant, session_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert first.json()["data"]["started_at"] == "2026-03-20T14:00:00.000000Z"


def test_ending_follows_the_seed_rules(client: TestClient, tenant: Tenant) -> None:
    session_id = str(uuid.uuid4())
    assert end(client, tenant, session_id).status_code == 404
    start(client, tenant, session_id)
    assert end(client, tenant, session_id, ended_at="2026-03-20T13:00:00Z").status_code == 422
    ended = end(client, tenant, session_id)
    assert ended.status_code == 200
    data = ended.json()["data"]
    assert (data["end_reason"], data["duration_seconds"]) == ("user_closed", 1800.0)
    assert end(client, tenant, session_id).status_code == 200
    assert end(client, tenant, session_id, reason="crash").status_code == 409


def test_session_requests_are_validated(client: TestClient, tenant: Tenant) -> None:
    assert start(client, tenant, "not-a-uuid").status_code == 400
    response = start(client, tenant, str(uuid.uuid4()), started_at="soon", actor_id=None)
    assert response.status_code == 400
    assert {d["field"] for d in response.json()["error"]["details"]} == {"started_at", "actor_id"}


def test_sessions_are_per_workspace(client: TestClient, tenant: Tenant) -> None:
    session_id = str(uuid.uuid4())
    start(client, tenant, session_id)
    other = make_tenant(client, name="Other", slug="other")
    assert end(client, other, session_id).status_code == 404
    assert start(client, other, session_id).status_code == 201


def report(**overrides: Any) -> dict[str, Any]:
    return {"exception_id": str(uuid.uuid4()), "exception_type": "ValueError",
            "severity": "fatal", "occurred_at": "2026-03-20T14:30:00Z", "actor_id": "user-1",
            "source_app": "MyApp", "source_version": "1.2.0",
            "message": "invalid literal for int() with base 10: '42abc'",
            "stack_trace": 'File "app/report.py", line 12, in export\n'
                           'File "app/db.py", line 88, in load at 0x7f3a2b10',
            "breadcrumbs": [{"message": "clicked export"}], **overrides}


def post_report(client: TestClient, tenant: Tenant, body: dict[str, Any]) -> Any:
    return client.post("/v1/events/exceptions", json=body, headers=tenant.headers("ingest"))


def test_an_exception_report_answers_with_its_fingerprint(client: TestClient, tenant: Tenant) -> None:
    body = report()
    response = post_report(client, tenant, body)
    assert response.status_code == 200
    data = response.json()
    assert (data["exception_id"], data["status"]) == (body["exception_id"], "accepted")
    assert len(data["fingerprint"]) == 32


def test_a_repeated_report_gets_the_same_answer_and_counts_once(client: TestClient,
                                                                tenant: Tenant) -> None:
    body = report()
    first, again = post_report(client, tenant, body), post_report(client, tenant, body)
    assert first.json() == again.json()
    usage = client.get("/api/v1/usage", headers=tenant.headers("read")).json()["data"]
    assert usage["used"] == 1


def test_the_same_bug_groups_whatever_the_volatile_details(client: TestClient, tenant: Tenant) -> None:
    base = post_report(client, tenant, report()).json()["fingerprint"]
    moved = report(message="invalid literal for int() with base 10: '77xyz'",
                   stack_trace='File "app/report.py", line 15, in export\n'
                               'File "app/db.py", line 91, in load at 0x55aa00ff')
    assert post_report(client, tenant, moved).json()["fingerprint"] == base
    other_type = report(exception_type="KeyError")
    other_frames = report(stack_trace='File "app/report.py", line 12, in import_rows\n'
                                      'File "app/db.py", line 88, in load at 0x7f3a2b10')
    assert post_report(client, tenant, other_type).json()["fingerprint"] != base
    assert post_report(client, tenant, other_frames).json()["fingerprint"] != base


@pytest.mark.parametrize("overrides, field", [
    ({"severity": "meh"}, "severity"), ({"message": "m" * 1001}, "message"),
    ({"stack_trace": "s" * 32769}, "stack_trace"), ({"breadcrumbs": [{}] * 101}, "breadcrumbs"),
    ({"exception_type": None}, "exception_type"), ({"occurred_at": "later"}, "occurred_at"),
    ({"breadcrumbs": "not a list"}, "breadcrumbs"),
])
def test_invalid_reports_are_refused_with_the_field(client: TestClient, tenant: Tenant,
                                                    overrides: dict, field: str) -> None:
    response = post_report(client, tenant, report(**overrides))
    assert response.status_code == 400
    assert field in {d["field"] for d in response.json()["error"]["details"]}


def test_reports_count_against_the_quota(client: TestClient, tenant: Tenant) -> None:
    from tests.conftest import ADMIN
    client.patch(f"/admin/v1/workspaces/{tenant.id}", json={"monthly_event_limit": 1}, headers=ADMIN)
    assert post_report(client, tenant, report()).status_code == 200
    refused = post_report(client, tenant, report())
    assert refused.status_code == 402 and refused.json()["error"]["code"] == "plan_limit_reached"


def test_quiet_sessions_are_ended_with_reason_timeout(
        clocked_beacon: Beacon, clock: FakeClock, clocked_client: TestClient) -> None:
    beacon, client = clocked_beacon, clocked_client
    tenant = make_tenant(client)
    quiet, busy = str(uuid.uuid4()), str(uuid.uuid4())
    for session_id in (quiet, busy):
        start(client, tenant, session_id, started_at="2026-03-20T14:00:00Z")
    response = client.post("/v1/events", headers=tenant.headers("ingest"), json=[{
        "event_id": str(uuid.uuid4()), "category": "c", "name": "n", "actor_id": "user-1",
        "timestamp": "2026-03-20T14:25:00Z", "session_id": busy}])
    source, _, position = response.headers["X-Beacon-Position"].partition(":")
    assert beacon.wait_for(source, int(position), timeout=10)
    clock.now = datetime(2026, 3, 20, 14, 40, tzinfo=UTC)
    assert beacon.jobs.expire_sessions() == 1
    ended = beacon.telemetry.get_session(uuid.UUID(tenant.id), quiet)
    assert (ended.end_reason, ended.ended_at) == ("timeout", datetime(2026, 3, 20, 14, tzinfo=UTC))
    assert beacon.telemetry.get_session(uuid.UUID(tenant.id), busy).ended_at is None
    clock.now = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)
    position = beacon.telemetry.recorder.max_notification_id()
    assert beacon.wait_for("Telemetry", position, timeout=10)
    assert beacon.jobs.expire_sessions() == 1
    assert beacon.telemetry.get_session(uuid.UUID(tenant.id), busy).ended_at == \
        datetime(2026, 3, 20, 14, 25, tzinfo=UTC)
    assert beacon.jobs.expire_sessions() == 0
    assert end(client, tenant, busy, ended_at="2026-03-20T14:25:00Z", reason="timeout").status_code == 200
    assert timedelta(minutes=beacon.settings.session_timeout_minutes) == timedelta(minutes=30)
