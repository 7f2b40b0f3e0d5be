"""Alert rules in beacon.yml: a deploy makes them real rules the engine evaluates, owned by the
config (changing or deleting them through the API is 409; muting is allowed), changed and
deleted by later deploys, previewed by a dry run and refused whole when not valid."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from domain.configuration import config_alert_id, config_monitor_id
from interfaces.bootstrap import Beacon
from tests.conftest import FakeClock, Tenant, settle
from tests.deploying import deploy, graphql, secret_key
from tests.e2e.test_alerts import evaluate, history, track
from tests.receiver import Receiver

SECRET = "alert-secret-0123456789"


def rule(url: str = "https://93.184.216.34/alerts", value: float = 2,
         **extra: Any) -> dict[str, Any]:
    return {"condition": {"type": "threshold", "event": "checkout_failed", "metric": "count",
                          "window_seconds": 60, "op": ">", "value": value},
            "channels": [{"type": "webhook", "url": url, "secret": SECRET}],
            "cooldown_seconds": 0, **extra}


def alerts_listed(client: TestClient, tenant: Tenant, beacon: Beacon) -> dict[str, Any]:
    settle(beacon)
    response = client.get("/api/v1/alerts", headers=tenant.headers("read"))
    assert response.status_code == 200, response.text
    return {a["name"]: a for a in response.json()["data"]}


def test_a_deployed_alert_rule_is_evaluated_like_one_made_through_the_api(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    client, tenant = clocked_client, tenant_on_clock
    with Receiver() as receiver:
        made = deploy(client, secret_key(client, tenant), {"alerts": {"checkouts": rule(receiver.url)}})
        assert made.status_code == 201, made.text
        assert made.json()["diff"] == {"alerts": {"added": ["checkouts"]}}
        alert_id = config_alert_id(uuid.UUID(tenant.id), "checkouts", 1)
        assert made.json()["created"] == [{"kind": "alert", "name": "checkouts", "id": str(alert_id),
                                           "channels": [{"id": made.json()["created"][0]["channels"][0]["id"],
                                                         "type": "webhook", "url": receiver.url,
                                                         "secret": SECRET}]}]
        evaluate(clocked_beacon)
        clock.advance(seconds=5)
        track(client, tenant, clock, 3)
        evaluate(clocked_beacon)
        assert [e["state"] for e in history(client, tenant, str(alert_id))] == ["ok", "firing"]
        assert [r.json["type"] for r in receiver.received] == ["alert.fired"]
        assert receiver.received[0].signed_with(SECRET)


def test_a_deployed_rule_is_owned_by_the_config_but_may_be_muted(
        client: TestClient, tenant: Tenant, beacon: Beacon) -> None:
    key = secret_key(client, tenant)
    deploy(client, key, {"alerts": {"checkouts": rule()}})
    alert_id = str(config_alert_id(uuid.UUID(tenant.id), "checkouts", 1))
    write = tenant.headers("write")

    changed = client.patch(f"/api/v1/alerts/{alert_id}", json={"cooldown_seconds": 60}, headers=write)
    deleted = client.delete(f"/api/v1/alerts/{alert_id}", headers=write)
    for refused in (changed, deleted):
        assert refused.status_code == 409, refused.text
        error = refused.json()["error"]
        assert error["code"] == "owned_by_config" and "beacon.yml" in error["message"]
        assert error["config"] == {"file": "beacon.yml", "version": 1, "section": "alerts",
                                   "name": "checkouts"}
    muted = client.post(f"/api/v1/alerts/{alert_id}/mute",
                        json={"until": "2099-01-01T00:00:00Z"}, headers=write)
    assert muted.status_code == 200 and muted.json()["data"]["muted_until"].startswith("2099")

    # A rule made through the API with the same name is the API's own.
    own = client.post("/api/v1/alerts", json={"name": "checkouts", **rule()}, headers=write)
    assert own.status_code == 201 and own.json()["data"]["managed_by"] is None
    listed = alerts_listed(client, tenant, beacon)
    assert listed["checkouts"]["managed_by"] is None  # the API's (listed by name: the last)
    read = client.get(f"/api/v1/alerts/{alert_id}", headers=tenant.headers("read")).json()["data"]
    assert read["managed_by"] == {"file": "beacon.yml", "version": 1, "section": "alerts",
                                  "name": "checkouts"}
    nodes = graphql(client, tenant, "{ alerts { edges { node { id managedBy { file version } } } } }")
    assert {e["node"]["id"]: e["node"]["managedBy"] for e in nodes["alerts"]["edges"]} == {
        alert_id: {"file": "beacon.yml", "version": 1}, own.json()["data"]["id"]: None}
    assert client.delete(f"/api/v1/alerts/{own.json()['data']['id']}", headers=write).status_code == 204

    # A changed rule keeps its id, its mute and its channels' secret; a dropped rule is deleted.
    deploy(client, key, {"alerts": {"checkouts": rule(value=5)}})
    listed = alerts_listed(client, tenant, beacon)["checkouts"]
    assert listed["id"] == alert_id and listed["condition"]["value"] == 5
    assert listed["muted_until"].startswith("2099")
    dropped = deploy(client, key, {})
    assert dropped.json()["diff"] == {"alerts": {"removed": ["checkouts"]}}
    assert alerts_listed(client, tenant, beacon) == {}
    assert client.get(f"/api/v1/alerts/{alert_id}", headers=tenant.headers("read")).status_code == 404


def test_a_rule_may_watch_a_monitor_of_the_same_file_by_name(
        client: TestClient, tenant: Tenant, beacon: Beacon) -> None:
    key = secret_key(client, tenant)
    watching = {"condition": {"type": "monitor", "trigger": "down", "monitor": "backup"},
                "channels": [{"url": "https://93.184.216.34/alerts"}]}
    unknown = deploy(client, key, {"alerts": {"backup down": watching}})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"][0]["field"] == "alerts.backup down.condition.monitor"

    made = deploy(client, key, {"monitors": {"backup": {"period_seconds": 3600}},
                                "alerts": {"backup down": watching}})
    assert made.status_code == 201, made.text
    secret = next(c for c in made.json()["created"] if c["kind"] == "alert")["channels"][0]["secret"]
    assert secret.startswith("whsec_")  # made by Beacon, shown once
    rule_ = alerts_listed(client, tenant, beacon)["backup down"]
    monitor_id = str(config_monitor_id(uuid.UUID(tenant.id), "backup"))
    assert rule_["condition"]["monitor_id"] == monitor_id
    monitor = client.get(f"/api/v1/monitors/{monitor_id}", headers=tenant.headers("read"))
    listed = client.get("/api/v1/monitors", headers=tenant.headers("read")).json()["data"]
    claim = {"file": "beacon.yml", "version": 1, "section": "monitors", "name": "backup"}
    assert monitor.json()["data"]["managed_by"] == claim
    assert [m["managed_by"] for m in listed] == [claim]
    nodes = graphql(client, tenant, "{ monitors { edges { node { managedBy { version } } } } }")
    assert [e["node"]["managedBy"] for e in nodes["monitors"]["edges"]] == [{"version": 1}]


def test_an_invalid_rule_is_refused_whole_with_the_domains_reason(
        client: TestClient, tenant: Tenant) -> None:
    key = secret_key(client, tenant)
    bad = rule()
    bad["condition"]["window_seconds"] = 5
    response = deploy(client, key, {"pages": {"backend": {"name": "Backend"}},
                                    "alerts": {"checkouts": bad}})
    assert response.status_code == 422
    detail = response.json()["error"]["details"][0]
    assert detail["field"] == "alerts.checkouts" and "window_seconds" in detail["message"]
    assert client.get("/api/deploys", headers=key).json()["version"] == 0
    assert client.get("/status/backend.json").status_code == 404


def test_a_dry_run_shows_the_rules_it_would_change_and_changes_nothing(
        client: TestClient, tenant: Tenant, beacon: Beacon) -> None:
    key = secret_key(client, tenant)
    deploy(client, key, {"alerts": {"checkouts": rule(), "signups": rule()}})
    preview = deploy(client, key, {"alerts": {"checkouts": rule(value=9), "errors": rule()}},
                     dry_run=True)
    assert preview.status_code == 200
    assert preview.json()["diff"] == {"alerts": {"added": ["errors"], "changed": ["checkouts"],
                                                 "removed": ["signups"]}}
    listed = alerts_listed(client, tenant, beacon)
    assert set(listed) == {"checkouts", "signups"} and listed["checkouts"]["condition"]["value"] == 2


def test_a_rules_description_in_beacon_yml_is_the_rules_and_follows_the_file(
        client: TestClient, tenant: Tenant, beacon: Beacon) -> None:
    key = secret_key(client, tenant)
    described = rule(description="Checkout is failing: see the payments runbook.")
    assert deploy(client, key, {"alerts": {"checkouts": described}}).status_code == 201
    assert alerts_listed(client, tenant, beacon)["checkouts"]["description"] == \
        "Checkout is failing: see the payments runbook."
    assert deploy(client, key, {"alerts": {"checkouts": rule()}}).status_code == 201
    assert alerts_listed(client, tenant, beacon)["checkouts"]["description"] is None
    too_long = deploy(client, key, {"alerts": {"checkouts": rule(description="x" * 2001)}})
    assert too_long.status_code == 422, too_long.text
