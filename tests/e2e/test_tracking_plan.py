"""The tracking plan at ingestion, through every dialect: from the next request after a deploy,
a violating event is refused (reject) or admitted and counted (flag); GraphQL counts them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import Tenant, settle
from tests.deploying import NOW, config, deploy, event, graphql, secret_key

VIOLATIONS = "{ trackingPlanViolations { eventName count rejected planVersion } }"


def async_event(**properties: Any) -> dict[str, Any]:
    """Seed 002's dialect: no event id (the server makes one)."""
    body = event(**properties)
    del body["event_id"]
    return body


def seed_004_event(**properties: Any) -> dict[str, Any]:
    return {"event": "signup_completed", "timestamp": NOW.isoformat(), "distinctId": "user_1",
            "sessionId": "sess_1", "properties": properties}


def test_before_any_deploy_every_valid_event_is_admitted(client: TestClient, tenant: Tenant) -> None:
    response = client.post("/v1/events", json=[event(plan="gold")], headers=tenant.headers("ingest"))
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": 0}


def test_reject_refuses_violating_events_of_v1_events_with_207_per_event(
        client: TestClient, tenant: Tenant, beacon: Beacon) -> None:
    deploy(client, secret_key(client, tenant), config("reject"))
    response = client.post("/v1/events", json=[event(plan="pro"), event(plan="gold"), event()],
                           headers=tenant.headers("ingest"))
    assert response.status_code == 207
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "plan_violation", "plan_violation"]
    assert results[1]["errors"] == [{"field": "properties.plan", "rule": "tracking_plan",
                                     "message": "must be one of free, pro"}]
    assert results[2]["errors"][0]["message"] == "is required"
    assert (response.json()["accepted"], response.json()["rejected"]) == (1, 2)
    all_refused = client.post("/v1/events", json=[event(plan="gold")], headers=tenant.headers("ingest"))
    assert all_refused.status_code == 207
    settle(beacon)
    assert graphql(client, tenant, VIOLATIONS)["trackingPlanViolations"] == [
        {"eventName": "signup_completed", "count": 3, "rejected": 3, "planVersion": 1}]


def test_reject_refuses_violating_events_of_the_async_dialect(client: TestClient,
                                                               tenant: Tenant) -> None:
    deploy(client, secret_key(client, tenant), config("reject"))
    one = client.post("/api/v1/events", json=async_event(plan="gold"), headers=tenant.headers("ingest"))
    assert one.status_code == 422
    assert one.json()["error"]["details"][0]["rule"] == "tracking_plan"
    batch = client.post("/api/v1/events/batch", json=[async_event(plan="free"), async_event()],
                        headers=tenant.headers("ingest"))
    assert batch.status_code == 202
    assert [e["status"] for e in batch.json()["data"]] == ["accepted", "plan_violation"]
    assert (batch.json()["accepted"], batch.json()["rejected"]) == (1, 1)


def test_reject_refuses_an_ingest_request_with_a_violating_event_as_seed_004_says(
        client: TestClient, tenant: Tenant) -> None:
    deploy(client, secret_key(client, tenant), config("reject"))
    key = {"X-API-Key": tenant.keys["ingest"]}
    refused = client.post("/ingest", json=[seed_004_event(plan="pro"), seed_004_event(plan="gold")],
                          headers=key)
    assert refused.status_code == 400
    assert refused.json()["error"] == "Validation failed"
    assert refused.json()["details"][0] == {"index": 1, "field": "properties.plan",
                                            "message": "must be one of free, pro",
                                            "rule": "tracking_plan"}
    assert client.post("/ingest", json=seed_004_event(plan="pro"), headers=key).json() == \
        {"success": True, "events": 1}


def test_flag_admits_violating_events_in_every_dialect_and_counts_them(
        client: TestClient, tenant: Tenant, beacon: Beacon) -> None:
    deploy(client, secret_key(client, tenant), config("flag"))
    ingest = tenant.headers("ingest")
    assert client.post("/v1/events", json=[event(plan="gold"), event(plan="pro")],
                       headers=ingest).json()["accepted"] == 2
    assert client.post("/api/v1/events", json=async_event(), headers=ingest).status_code == 202
    batch = client.post("/api/v1/events/batch", json=[async_event(plan=3)], headers=ingest)
    assert batch.json()["data"][0]["status"] == "accepted"
    assert client.post("/ingest", json=seed_004_event(plan="gold"),
                       headers={"X-API-Key": tenant.keys["ingest"]}).json()["events"] == 1
    settle(beacon)
    assert graphql(client, tenant, VIOLATIONS)["trackingPlanViolations"] == [
        {"eventName": "signup_completed", "count": 4, "rejected": 0, "planVersion": 1}]


def test_unplanned_events_and_unknown_properties_can_be_violations(client: TestClient,
                                                                   tenant: Tenant) -> None:
    document = {"tracking_plan": {"on_violation": "reject", "unplanned_events": "violate",
                                  "events": {"visit": {"additional_properties": False,
                                                       "properties": {"path": {"type": "string"}}}}}}
    assert deploy(client, secret_key(client, tenant), document).status_code == 201
    response = client.post("/v1/events", json=[event("visit", path="/"), event("visit", path=3),
                                               event("visit", ref="x"), event("checkout")],
                           headers=tenant.headers("ingest"))
    statuses = [r["status"] for r in response.json()["results"]]
    assert statuses == ["accepted", "plan_violation", "plan_violation", "plan_violation"]
    errors = [r["errors"][0]["message"] for r in response.json()["results"][1:]]
    assert errors == ["must be of type string", "is not in the tracking plan",
                      "event 'checkout' is not in the tracking plan"]


def test_a_duplicate_of_a_flagged_event_is_not_counted_again(client: TestClient, tenant: Tenant,
                                                             beacon: Beacon) -> None:
    deploy(client, secret_key(client, tenant), config("flag"))
    flagged = event(plan="gold")
    for _ in range(2):
        client.post("/v1/events", json=[flagged], headers=tenant.headers("ingest"))
    settle(beacon)
    assert graphql(client, tenant, VIOLATIONS)["trackingPlanViolations"][0]["count"] == 1
