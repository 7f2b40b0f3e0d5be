"""A deploy is atomic across every object kind it owns: the configuration's version, its pages,
monitors and alert rules are recorded in one transaction, so a deploy failing half-way (in the
store of any of them) leaves the previous version in force for all; a rollback restores them."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.configuration import config_alert_id, config_monitor_id
from interfaces.bootstrap import Beacon
from tests.conftest import Tenant, settle
from tests.deploying import config, deploy, event, graphql, secret_key
from tests.e2e.test_deploy_alerts import alerts_listed, rule
from tests.faults import fail_saves_of, heal_saves_of

PLANS = {"type": "breakdown", "event": "signup_completed", "property": "plan"}


def version_one() -> dict[str, Any]:
    return config("flag", insights={"plans": PLANS}, pages={"backend": {"name": "Backend"}},
                  monitors={"backup": {"period_seconds": 3600, "page": "backend"}},
                  alerts={"checkouts": rule(value=2), "signups": rule(value=1)})


def version_two() -> dict[str, Any]:
    return config("reject", insights={"plans": PLANS, "funnel": {
        "type": "funnel", "steps": ["visit", "signup_completed"]}},
        pages={"backend": {"name": "Backend"}, "frontend": {"name": "Frontend"}},
        monitors={"backup": {"period_seconds": 7200, "page": "backend"},
                  "sync": {"period_seconds": 60, "page": "frontend"}},
        alerts={"checkouts": rule(value=5), "errors": rule(value=1)})


def in_force(client: TestClient, tenant: Tenant, beacon: Beacon, key: dict[str, str]) -> dict[str, Any]:
    """What a user sees of the configuration in force, for every object kind."""
    settle(beacon)
    workspace = uuid.UUID(tenant.id)
    read = tenant.headers("read")

    def monitor(name: str) -> int | None:
        response = client.get(f"/api/v1/monitors/{config_monitor_id(workspace, name)}", headers=read)
        return response.json()["data"]["period_seconds"] if response.status_code == 200 else None

    sent = client.post("/v1/events", json=[event(plan="gold")], headers=tenant.headers("ingest"))
    flagged = sent.json()  # all accepted: 200 without per-event results
    return {
        "version": client.get("/api/deploys", headers=key).json()["version"],
        "plan": flagged["results"][0]["status"] if "results" in flagged else "accepted",
        "insights": sorted(i["name"] for i in graphql(client, tenant, "{ savedInsights { name } }")
                           ["savedInsights"]),
        "pages": sorted(slug for slug in ("backend", "frontend")
                        if client.get(f"/status/{slug}.json").status_code == 200),
        "monitors": {name: monitor(name) for name in ("backup", "sync")},
        "alerts": {name: (a["id"], a["condition"]["value"])
                   for name, a in alerts_listed(client, tenant, beacon).items()},
    }


@pytest.mark.parametrize(("application", "topic"), [
    ("Configuration", "ProjectConfiguration.Deployed"),
    ("Alerts", "Alert.Created"),
    ("Monitoring", "Monitor.Created"),
    ("StatusPages", "Page.Created"),  # the last store the deploy writes
])
def test_a_deploy_failing_half_way_leaves_the_previous_version_in_force_for_every_object(
        client: TestClient, tenant: Tenant, beacon: Beacon, backend: str, application: str,
        topic: str) -> None:
    key = secret_key(client, tenant)
    assert deploy(client, key, version_one()).status_code == 201
    before = in_force(client, tenant, beacon, key)
    assert before["pages"] == ["backend"] and before["monitors"] == {"backup": 3600, "sync": None}
    assert set(before["alerts"]) == {"checkouts", "signups"}

    fail_saves_of(beacon.databases[application], backend, application, topic)
    failed = deploy(client, key, version_two())
    assert failed.status_code == 503, failed.text
    heal_saves_of(beacon.databases[application], application)
    assert in_force(client, tenant, beacon, key) == {**before, "version": 1}

    landed = deploy(client, key, version_two())
    assert landed.status_code == 201 and landed.json()["version"] == 2
    after = in_force(client, tenant, beacon, key)
    assert after["plan"] == "plan_violation" and after["insights"] == ["funnel", "plans"]
    assert after["pages"] == ["backend", "frontend"]
    assert after["monitors"] == {"backup": 7200, "sync": 60}
    assert after["alerts"] == {"checkouts": (before["alerts"]["checkouts"][0], 5),
                               "errors": (str(config_alert_id(uuid.UUID(tenant.id), "errors", 2)), 1)}


def test_a_rollback_restores_the_earlier_versions_monitors_and_alert_rules(
        client: TestClient, tenant: Tenant, beacon: Beacon) -> None:
    key = secret_key(client, tenant)
    deploy(client, key, version_one())
    before = in_force(client, tenant, beacon, key)
    deploy(client, key, version_two())

    rolled = client.post("/api/deploys/1/rollback", headers=key)
    assert rolled.status_code == 201, rolled.text
    assert rolled.json()["diff"]["alerts"] == {"added": ["signups"], "changed": ["checkouts"],
                                               "removed": ["errors"]}
    after = in_force(client, tenant, beacon, key)
    assert after["version"] == 3 and after["plan"] == before["plan"]
    assert after["monitors"] == {"backup": 3600, "sync": 60}  # "sync" is released, not deleted
    assert after["pages"] == ["backend", "frontend"]  # so is the page "frontend"
    assert after["alerts"] == {  # "signups" was deleted by version 2: a new rule now
        "checkouts": before["alerts"]["checkouts"],
        "signups": (str(config_alert_id(uuid.UUID(tenant.id), "signups", 3)), 1)}
    sync = config_monitor_id(uuid.UUID(tenant.id), "sync")
    paused = client.post(f"/api/v1/monitors/{sync}/pause", headers=tenant.headers("write"))
    assert paused.status_code == 200  # released: the API's to change now


def test_deploys_racing_each_other_each_land_whole_as_their_own_version(
        client: TestClient, tenant: Tenant, beacon: Beacon) -> None:
    key = secret_key(client, tenant)
    workspace = uuid.UUID(tenant.id)
    author = {"key_id": None, "name": "user:racer"}

    def land(n: int) -> int:
        document = {"pages": {f"page-{n}": {"name": f"Page {n}"}},
                    "monitors": {f"job {n}": {"period_seconds": 60 + n}},
                    "alerts": {f"rule {n}": rule(value=n)}}
        return beacon.deploys.deploy(workspace, document, author=author).version

    with ThreadPoolExecutor(max_workers=4) as pool:
        versions = sorted(pool.map(land, range(4)))
    assert versions == [1, 2, 3, 4]
    last = beacon.configuration.configuration(workspace).document
    (name,) = last["alerts"]
    assert set(alerts_listed(client, tenant, beacon)) == {name}  # the others were deleted
    assert client.get("/api/deploys", headers=key).json()["version"] == 4
