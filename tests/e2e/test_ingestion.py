"""SDK ingestion (seed 000) through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import ADMIN, Tenant
from tests.faults import fail_ledger_insert_of

SEED_EVENT = {
    "event_id": "01912345-6789-7abc-def0-123456789abc", "category": "reports",
    "name": "report_exported", "timestamp": "2026-03-20T14:30:00Z", "actor_id": "user-123",
    "source_app": "MyApp", "source_version": "1.2.0",
    "properties": {"format": "pdf", "row_count": "1500"},
}


def event(**overrides: Any) -> dict[str, Any]:
    return {**SEED_EVENT, "event_id": str(uuid.uuid4()), **overrides}


def post(client: TestClient, tenant: Tenant, body: Any, scope: str = "ingest") -> Any:
    return client.post("/v1/events", json=body, headers=tenant.headers(scope))


def events_in_read_model(client: TestClient, beacon: Beacon, tenant: Tenant, position: str) -> int:
    source, _, at = position.partition(":")
    assert beacon.wait_for(source, int(at), timeout=10)
    return beacon.telemetry_queries.count_events(tenant.id)


def limit_events(client: TestClient, tenant: Tenant, limit: int) -> None:
    response = client.patch(f"/admin/v1/workspaces/{tenant.id}",
                            json={"monthly_event_limit": limit}, headers=ADMIN)
    assert response.status_code == 200


def test_the_seed_example_is_accepted(client: TestClient, tenant: Tenant) -> None:
    response = post(client, tenant, [SEED_EVENT])
    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": 0}
    assert response.headers["X-RateLimit-Limit"] == "1000"


def test_a_retried_batch_is_acknowledged_and_never_counted_twice(client: TestClient, beacon: Beacon,
                                                                 tenant: Tenant) -> None:
    batch = [event() for _ in range(5)]
    first = post(client, tenant, batch)
    again = post(client, tenant, batch + batch[:2])
    assert first.json() == {"accepted": 5, "duplicates": 0, "rejected": 0}
    assert again.status_code == 200
    assert again.json() == {"accepted": 0, "duplicates": 7, "rejected": 0}
    usage = client.get("/api/v1/usage", headers=tenant.headers("read")).json()["data"]
    assert usage["used"] == 5
    assert events_in_read_model(client, beacon, tenant, first.headers["X-Beacon-Position"]) == 5


def test_a_partly_valid_batch_answers_207_with_a_result_per_event(client: TestClient,
                                                                  tenant: Tenant) -> None:
    good = event()
    response = post(client, tenant, [good, {"name": "no id"}, event(category="x" * 129)])
    assert response.status_code == 207
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "invalid", "invalid"]
    assert [r["index"] for r in results] == [0, 1, 2] and results[0]["event_id"] == good["event_id"]
    assert {e["field"] for e in results[1]["errors"]} >= {"event_id", "category", "actor_id"}
    assert results[2]["errors"] == [{"field": "category",
                                     "message": "must be a string of 1-128 characters"}]


def test_a_batch_with_nothing_valid_is_400_with_every_error(client: TestClient,
                                                            tenant: Tenant) -> None:
    response = post(client, tenant, [event(event_id="nope"), event(timestamp="yesterday")])
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert [d["errors"][0]["field"] for d in details] == ["event_id", "timestamp"]


@pytest.mark.parametrize("field, value, reason", [
    ("name", "n" * 257, "1-256"), ("actor_id", "a" * 513, "1-512"),
    ("properties", {f"k{i}": i for i in range(101)}, "at most 100 keys"),
    ("properties", {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}, "deeper than 5"),
    ("properties", ["not", "an", "object"], "must be an object"),
    ("session_id", "not-a-uuid", "UUID"), ("category", 7, "string"),
])
def test_each_field_rule_refuses_the_event_with_a_reason(client: TestClient, tenant: Tenant,
                                                         field: str, value: Any, reason: str) -> None:
    response = post(client, tenant, [event(), event(**{field: value})])
    assert response.status_code == 207
    (error,) = response.json()["results"][1]["errors"]
    assert error["field"] == field and reason in error["message"]


def test_properties_nested_five_deep_are_fine(client: TestClient, tenant: Tenant) -> None:
    deep = {"a": {"b": {"c": {"d": {"e": 1}}}}}
    assert post(client, tenant, [event(properties=deep)]).status_code == 200


def test_timestamps_far_in_the_future_are_refused_and_backfill_accepted(client: TestClient,
                                                                        tenant: Tenant) -> None:
    future = (datetime.now(UTC) + timedelta(hours=25)).isoformat()
    soon = (datetime.now(UTC) + timedelta(hours=23)).isoformat()
    response = post(client, tenant, [event(timestamp=future), event(timestamp="2019-01-01T00:00:00"),
                                     event(timestamp=soon)])
    assert response.status_code == 207
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["invalid", "accepted", "accepted"]
    assert "24 hours" in results[0]["errors"][0]["message"]


def test_the_body_must_be_a_json_array_of_at_most_1000_events(client: TestClient,
                                                              tenant: Tenant) -> None:
    assert post(client, tenant, []).status_code == 400
    assert post(client, tenant, SEED_EVENT).status_code == 400
    assert post(client, tenant, [event() for _ in range(1001)]).status_code == 413
    malformed = client.post("/v1/events", content=b"[{", headers=tenant.headers(
        "ingest", **{"Content-Type": "application/json"}))
    assert malformed.status_code == 400
    deep = client.post("/v1/events", content=b"[" * 5000 + b"]" * 5000, headers=tenant.headers(
        "ingest", **{"Content-Type": "application/json"}))
    assert deep.status_code == 400
    huge = client.post("/v1/events", content=b"[" + b" " * 1_100_000 + b"]", headers=tenant.headers(
        "ingest", **{"Content-Type": "application/json"}))
    assert huge.status_code == 413


def test_keys_need_the_ingest_scope(client: TestClient, tenant: Tenant) -> None:
    assert client.post("/v1/events", json=[event()]).status_code == 401
    assert post(client, tenant, [event()], scope="write").status_code == 403


def test_the_quota_admits_up_to_the_limit_then_refuses_with_402(client: TestClient,
                                                                tenant: Tenant) -> None:
    limit_events(client, tenant, 3)
    response = post(client, tenant, [event() for _ in range(5)])
    assert response.status_code == 207
    assert [r["status"] for r in response.json()["results"]] == \
        ["accepted"] * 3 + ["limit_exceeded"] * 2
    refused = post(client, tenant, [event()])
    assert refused.status_code == 402
    error = refused.json()["error"]
    assert (error["code"], error["limit"], error["used"]) == ("plan_limit_reached", 3, 3)
    assert datetime.fromisoformat(error["resets_at"].replace("Z", "+00:00")).day == 1
    usage = client.get("/api/v1/usage", headers=tenant.headers("ingest")).json()["data"]
    assert usage == {"period": datetime.now(UTC).strftime("%Y-%m"), "limit": 3, "used": 3,
                     "remaining": 0, "refused": 3}
    limit_events(client, tenant, 10)  # takes effect at once
    assert post(client, tenant, [event()]).status_code == 200


def test_duplicates_are_acknowledged_even_when_the_quota_is_spent(client: TestClient,
                                                                  tenant: Tenant) -> None:
    limit_events(client, tenant, 1)
    batch = [event()]
    assert post(client, tenant, batch).status_code == 200
    assert post(client, tenant, batch).json() == {"accepted": 0, "duplicates": 1, "rejected": 0}


def test_a_database_error_mid_batch_writes_nothing_and_asks_for_a_retry(
        client: TestClient, beacon: Beacon, tenant: Tenant, backend: str) -> None:
    batch = [event() for _ in range(3)]
    poison = sorted(e["event_id"] for e in batch)[1]
    db = beacon.databases["Telemetry"]
    fail_ledger_insert_of(db, backend, poison)
    failed = post(client, tenant, batch)
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "1"
    assert client.get("/api/v1/usage", headers=tenant.headers("ingest")).json()["data"]["used"] == 0
    with db.transaction() as cur:
        cur.execute("DROP TRIGGER poison" + (" ON telemetry_ledger" if backend == "postgres" else ""))
    retried = post(client, tenant, batch)
    assert retried.json() == {"accepted": 3, "duplicates": 0, "rejected": 0}
    assert events_in_read_model(client, beacon, tenant, retried.headers["X-Beacon-Position"]) == 3


def test_rate_limits_answer_429_with_retry_after(client: TestClient, tenant: Tenant) -> None:
    client.patch(f"/admin/v1/workspaces/{tenant.id}", json={"rate_limit_per_minute": 2},
                 headers=ADMIN)
    responses = [post(client, tenant, [event()]) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[2].headers["X-RateLimit-Remaining"] == "0"
    assert int(responses[2].headers["Retry-After"]) >= 1
