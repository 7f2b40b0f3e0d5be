"""Configuration as code through the real app: deploys are versioned, listed and rolled back;
what a deploy made belongs to beacon.yml (failures and rollbacks of every object kind:
test_deploy_atomicity.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from domain.configuration import config_monitor_id
from interfaces.bootstrap import Beacon
from tests.conftest import ADMIN, Tenant, make_tenant, settle
from tests.deploying import config, deploy, event, graphql, secret_key

INSIGHTS = {"signup-funnel": {"type": "funnel", "steps": ["visit", "signup_completed"]},
            "plans": {"type": "breakdown", "event": "signup_completed", "property": "plan"}}


def test_a_deploy_is_a_new_version_with_its_author_and_diff(client: TestClient,
                                                            tenant: Tenant) -> None:
    key = secret_key(client, tenant)
    first = deploy(client, key, config(insights=INSIGHTS))
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1 and first.json()["changed"] is True
    assert first.json()["diff"]["insights"] == {"added": ["plans", "signup-funnel"]}

    second = deploy(client, key, config(insights={"plans": INSIGHTS["plans"]}))
    assert second.status_code == 201
    assert second.json()["diff"] == {"insights": {"removed": ["signup-funnel"]}}
    again = deploy(client, key, config(insights={"plans": INSIGHTS["plans"]}))
    assert again.status_code == 200 and again.json()["changed"] is False

    listed = client.get("/api/deploys", headers=key).json()
    assert listed["version"] == 2
    assert [d["version"] for d in listed["deploys"]] == [2, 1]
    assert listed["deploys"][0]["author"]["name"].startswith("user:admin-")
    assert listed["deploys"][0]["diff"] == {"insights": {"removed": ["signup-funnel"]}}


def test_deploys_need_the_secret_key_and_a_member_who_may_deploy(client: TestClient,
                                                                   tenant: Tenant) -> None:
    key = secret_key(client, tenant)
    person_only = {"Authorization": key["Authorization"]}
    assert deploy(client, person_only, config()).status_code == 401  # no secret key
    assert deploy(client, {"X-API-Key": key["X-API-Key"]}, config()).status_code == 401  # no person
    wrong_key = {**person_only, "X-API-Key": tenant.keys["write"]}
    assert deploy(client, wrong_key, config()).status_code == 403
    member = secret_key(client, tenant, role="member")
    assert deploy(client, member, config()).status_code == 403  # a member writes, never deploys
    other = make_tenant(client, name="Other", slug="other")
    stranger = {**person_only, "X-API-Key": secret_key(client, other)["X-API-Key"]}
    assert deploy(client, stranger, config()).status_code == 404  # not a member of that project
    assert client.get("/api/deploys", headers=stranger).status_code == 404
    assert deploy(client, key, config()).status_code == 201


def test_an_invalid_config_is_refused_with_every_problem(client: TestClient, tenant: Tenant) -> None:
    key = secret_key(client, tenant)
    response = deploy(client, key, {"tracking_plan": {"on_violation": "explode"},
                                    "insights": {"x": {"type": "funnel", "steps": ["one"]}}})
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert "tracking_plan.on_violation" in fields and "insights.x.funnel.steps" in fields
    assert client.get("/api/deploys", headers=key).json()["deploys"] == []


def test_a_rollback_deploys_an_earlier_version_as_a_new_one(client: TestClient,
                                                            tenant: Tenant) -> None:
    key = secret_key(client, tenant)
    deploy(client, key, config("reject"))
    deploy(client, key, config("flag"))
    rolled = client.post("/api/deploys/1/rollback", headers=key)
    assert rolled.status_code == 201, rolled.text
    assert rolled.json()["version"] == 3
    assert rolled.json()["diff"]["tracking_plan"]["settings"] == {"on_violation": ["flag", "reject"]}
    latest = client.get("/api/deploys", headers=key).json()["deploys"][0]
    assert (latest["version"], latest["rolledBackFrom"]) == (3, 1)
    # version 1's plan (reject) is in force again from the next request
    refused = client.post("/v1/events", json=[event(plan="gold")], headers=tenant.headers("ingest"))
    assert refused.json()["results"][0]["status"] == "plan_violation"
    assert client.post("/api/deploys/9/rollback", headers=key).status_code == 404


def test_saved_insights_are_listed_in_graphql(client: TestClient, tenant: Tenant,
                                              beacon: Beacon) -> None:
    key = secret_key(client, tenant)
    deploy(client, key, config(insights=INSIGHTS))
    settle(beacon)
    data = graphql(client, tenant, "{ savedInsights { name type definition deployVersion } }")
    assert data["savedInsights"] == [
        {"name": "plans", "type": "breakdown", "deployVersion": 1,
         "definition": {"type": "breakdown", "event": "signup_completed", "property": "plan",
                        "metric": "count"}},
        {"name": "signup-funnel", "type": "funnel", "deployVersion": 1,
         "definition": {"type": "funnel", "steps": ["visit", "signup_completed"],
                        "order": "sequential"}}]
    deploy(client, key, config(insights={"plans": INSIGHTS["plans"]}))
    settle(beacon)
    names = graphql(client, tenant, "{ savedInsights { name } }")["savedInsights"]
    assert names == [{"name": "plans"}]


def test_objects_a_deploy_made_are_owned_by_the_config_until_it_releases_them(
        client: TestClient, tenant: Tenant) -> None:
    key = secret_key(client, tenant)
    made = deploy(client, key, config(pages={"backend": {"name": "Backend status"}},
                                      monitors={"nightly backup": {"period_seconds": 86400,
                                                                   "page": "backend"}}))
    created = {c["kind"]: c for c in made.json()["created"]}
    assert set(created) == {"page", "monitor"} and created["monitor"]["token"].startswith("beet_")
    monitor_id = created["monitor"]["id"]
    assert monitor_id == str(config_monitor_id(__import__("uuid").UUID(tenant.id), "nightly backup"))

    for action in ("pause", "resume", "rotate"):
        refused = client.post(f"/api/v1/monitors/{monitor_id}/{action}", headers=tenant.headers("write"))
        assert refused.status_code == 409, action
        assert refused.json()["error"]["code"] == "owned_by_config"
        assert refused.json()["error"]["config"]["file"] == "beacon.yml"
        assert "beacon.yml" in refused.json()["error"]["message"]
    for changed in (client.patch(f"/api/v1/monitors/{monitor_id}", json={"grace_seconds": 60},
                                 headers=tenant.headers("write")),
                    client.delete(f"/api/v1/monitors/{monitor_id}", headers=tenant.headers("write"))):
        assert changed.status_code == 409 and changed.json()["error"]["code"] == "owned_by_config"
    assert client.get(f"/api/v1/monitors/{monitor_id}", headers=tenant.headers("read")).status_code == 200
    page = client.post(f"/admin/v1/workspaces/{tenant.id}/pages",
                       json={"slug": "backend", "name": "Mine"}, headers=ADMIN)
    assert page.status_code == 409 and page.json()["error"]["code"] == "owned_by_config"

    released = deploy(client, key, config(pages={"backend": {"name": "Backend status"}}))
    assert released.json()["diff"]["monitors"] == {"removed": ["nightly backup"]}
    paused = client.post(f"/api/v1/monitors/{monitor_id}/pause", headers=tenant.headers("write"))
    assert paused.status_code == 200 and paused.json()["data"]["status"] == "paused"
    gone = client.delete(f"/api/v1/monitors/{monitor_id}", headers=tenant.headers("write"))
    assert gone.status_code == 204
    again = deploy(client, key, config(monitors={"nightly backup": {"period_seconds": 86400}}))
    assert again.status_code == 422 and "another name" in again.json()["error"]["message"]


def test_a_monitor_naming_an_unknown_page_is_refused_before_anything_is_written(
        client: TestClient, tenant: Tenant) -> None:
    key = secret_key(client, tenant)
    response = deploy(client, key, config(monitors={"backup": {"page": "nowhere"}}))
    assert response.status_code == 422
    assert client.get("/api/deploys", headers=key).json()["version"] == 0


def test_a_page_renamed_in_beacon_yml_is_renamed_on_its_public_page_and_in_a_rollback(
        client: TestClient, tenant: Tenant, beacon: Beacon) -> None:
    key = secret_key(client, tenant)
    assert deploy(client, key, config(pages={"backend": {"name": "Backend"}})).status_code == 201
    renamed = deploy(client, key, config(pages={"backend": {"name": "Backend API"}}))
    assert renamed.status_code == 201 and renamed.json()["diff"] == {
        "pages": {"changed": ["backend"]}}
    assert renamed.json()["created"] == []  # the same page, under the same URL
    settle(beacon)
    assert client.get("/status/backend.json").json()["page"]["name"] == "Backend API"

    rolled_back = client.post("/api/deploys/1/rollback", headers=key)
    assert rolled_back.status_code == 201, rolled_back.text
    settle(beacon)
    assert client.get("/status/backend.json").json()["page"]["name"] == "Backend"
