"""Seed 002's async event API and seed 004's /ingest, answering exactly as those documents say."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import ADMIN, Tenant


def async_event(**overrides: Any) -> dict[str, Any]:
    return {"category": "billing", "name": "invoice_paid", "timestamp": "2026-03-20T14:30:00.123456Z",
            "actor_id": "user-9", **overrides}


def test_a_single_event_is_accepted_with_a_server_made_uuid7(client: TestClient, tenant: Tenant) -> None:
    response = client.post("/api/v1/events", json=async_event(), headers=tenant.headers("ingest"))
    assert response.status_code == 202
    data = response.json()["data"]
    assert data["status"] == "accepted" and uuid.UUID(data["event_id"]).version == 7


def test_a_client_event_id_is_kept_and_deduplicated(client: TestClient, tenant: Tenant) -> None:
    body = async_event(event_id=str(uuid.uuid4()))
    first = client.post("/api/v1/events", json=body, headers=tenant.headers("ingest")).json()
    again = client.post("/api/v1/events", json=body, headers=tenant.headers("ingest")).json()
    assert first["data"] == {"event_id": body["event_id"], "status": "accepted"}
    assert again["data"] == {"event_id": body["event_id"], "status": "duplicate"}


def test_a_batch_answers_202_with_each_id(client: TestClient, tenant: Tenant) -> None:
    response = client.post("/api/v1/events/batch", json=[async_event(), async_event(name="")],
                           headers=tenant.headers("ingest"))
    assert response.status_code == 202
    body = response.json()
    assert [item["status"] for item in body["data"]] == ["accepted", "invalid"]
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert client.post("/api/v1/events", json=async_event(name=""),
                       headers=tenant.headers("ingest")).status_code == 422


def ingest(client: TestClient, body: Any, key: str | None) -> Any:
    headers = {"X-API-Key": key} if key else {}
    return client.post("/ingest", json=body, headers=headers)


def seed_004_event(**overrides: Any) -> dict[str, Any]:
    return {"event": "signup_completed", "timestamp": "2026-02-03T15:30:00.000Z",
            "distinctId": "user_123", "sessionId": "sess_abc",
            "properties": {"plan": "pro", "source": "pricing_page"}, **overrides}


def test_ingest_takes_a_single_event_an_array_and_an_envelope(client: TestClient,
                                                              tenant: Tenant) -> None:
    key = tenant.keys["ingest"]
    assert ingest(client, seed_004_event(), key).json() == {"success": True, "events": 1}
    assert ingest(client, [seed_004_event(), seed_004_event()], key).json() == \
        {"success": True, "events": 2}
    envelope = {"apiKey": key, "events": [seed_004_event()]}
    response = ingest(client, envelope, None)
    assert response.status_code == 200 and response.json() == {"success": True, "events": 1}
    usage = client.get("/api/v1/usage", headers=tenant.headers("read")).json()["data"]
    assert usage["used"] == 4


def test_ingest_validation_failures_are_400_with_details(client: TestClient, tenant: Tenant) -> None:
    key = tenant.keys["ingest"]
    for bad in (seed_004_event(event="e" * 101), seed_004_event(timestamp="nope"),
                seed_004_event(distinctId=None), seed_004_event(properties={f"k{i}": 1 for i in range(101)}),
                [seed_004_event()] * 101):
        response = ingest(client, bad, key)
        assert response.status_code == 400
        body = response.json()
        assert body["error"] == "Validation failed" and body["details"]
    assert client.get("/api/v1/usage", headers=tenant.headers("read")).json()["data"]["used"] == 0


def test_ingest_refuses_unknown_keys(client: TestClient, tenant: Tenant) -> None:
    assert ingest(client, seed_004_event(), None).status_code == 401
    assert ingest(client, seed_004_event(), "pk_live_xxx").status_code == 401
    assert ingest(client, seed_004_event(), tenant.keys["read"]).status_code == 403


def test_ingest_reports_the_monthly_limit_as_seed_004_does(client: TestClient, tenant: Tenant) -> None:
    client.patch(f"/admin/v1/workspaces/{tenant.id}", json={"monthly_event_limit": 2}, headers=ADMIN)
    key = tenant.keys["ingest"]
    assert ingest(client, seed_004_event(), key).status_code == 200
    response = ingest(client, [seed_004_event(), seed_004_event()], key)
    assert response.status_code == 402
    assert response.json() == {"error": "Monthly event limit exceeded", "code": "EVENT_LIMIT_EXCEEDED",
                               "limit": 2, "used": 1, "remaining": 1}


def test_ingest_allows_1000_requests_a_minute_per_key(client: TestClient, beacon: Beacon,
                                                      tenant: Tenant) -> None:
    key_id = tenant.key_ids["ingest"]
    for _ in range(999):
        assert beacon.limiter.hit(f"key:{key_id}", 1000).allowed
    assert ingest(client, seed_004_event(), tenant.keys["ingest"]).status_code == 200
    limited = ingest(client, seed_004_event(), tenant.keys["ingest"])
    assert limited.status_code == 429
    assert limited.json() == {"error": "Rate limit exceeded"}
    assert int(limited.headers["Retry-After"]) >= 1
