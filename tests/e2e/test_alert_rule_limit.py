"""A workspace has at most BEACON_ALERT_RULES_MAX_PER_WORKSPACE alert rules, exactly: through the
API and beacon.yml together, with creations racing for the last place, and for a workspace whose
rules were made before the cap was counted; on both backends."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.alert import Alert
from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon
from tests.conftest import Tenant, make_tenant, settle
from tests.deploying import deploy, secret_key
from tests.e2e.test_deploy_alerts import rule

MOST = 3
URL = "https://93.184.216.34/alerts"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"alert_rules_max_per_workspace": MOST})


def create(client: TestClient, tenant: Tenant, name: str = "Checkouts failing") -> Any:
    return client.post("/api/v1/alerts", headers=tenant.headers("write"), json={
        "name": name, "channels": [{"type": "webhook", "url": URL}],
        "condition": {"type": "threshold", "event": "checkout_failed", "metric": "count",
                      "window_seconds": 60, "op": ">", "value": 2}})


def listed(client: TestClient, tenant: Tenant, beacon: Beacon) -> list[str]:
    settle(beacon)
    response = client.get("/api/v1/alerts", headers=tenant.headers("read"))
    assert response.status_code == 200, response.text
    return sorted(a["name"] for a in response.json()["data"])


def test_one_rule_past_the_most_is_refused_until_one_is_deleted(
        client: TestClient, tenant: Tenant, beacon: Beacon) -> None:
    made = [create(client, tenant, f"rule {n}") for n in range(MOST)]
    assert [r.status_code for r in made] == [201] * MOST
    refused = create(client, tenant, "one too many")
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "alert_rule_limit_reached" and error["limit"] == MOST
    assert "BEACON_ALERT_RULES_MAX_PER_WORKSPACE" in error["message"]
    assert listed(client, tenant, beacon) == [f"rule {n}" for n in range(MOST)]  # nothing written
    other = make_tenant(client, name="Globex", slug="globex")
    assert create(client, other, "theirs").status_code == 201  # each workspace has its own
    deleted = client.delete(f"/api/v1/alerts/{made[0].json()['data']['id']}",
                            headers=tenant.headers("write"))
    assert deleted.status_code == 204, deleted.text
    assert create(client, tenant, "in its place").status_code == 201
    assert create(client, tenant, "again one too many").status_code == 409
    assert listed(client, tenant, beacon) == ["in its place", "rule 1", "rule 2"]


def test_creations_racing_for_the_last_places_never_pass_the_most(
        client: TestClient, tenant: Tenant, beacon: Beacon) -> None:
    assert create(client, tenant, "first").status_code == 201
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda n: create(client, tenant, f"racer {n}").status_code,
                                range(12)))
    assert sorted(answers) == [201] * (MOST - 1) + [409] * (12 - MOST + 1), answers
    assert len(listed(client, tenant, beacon)) == MOST


def test_beacon_yml_rules_count_with_the_apis_and_a_deploy_past_the_most_writes_nothing(
        client: TestClient, tenant: Tenant, beacon: Beacon) -> None:
    key = secret_key(client, tenant)
    assert create(client, tenant, "made through the API").status_code == 201
    fits = deploy(client, key, {"alerts": {"one": rule(URL), "two": rule(URL)}})
    assert fits.status_code == 201, fits.text
    assert create(client, tenant, "no room").status_code == 409
    too_many = deploy(client, key, {"alerts": {"one": rule(URL), "two": rule(URL),
                                               "three": rule(URL)}})
    assert too_many.status_code == 409, too_many.text
    assert too_many.json()["error"]["code"] == "alert_rule_limit_reached"
    assert listed(client, tenant, beacon) == ["made through the API", "one", "two"]
    # At the most, a deploy that renames a rule (drops one, adds one) fits: the drop comes first.
    renamed = deploy(client, key, {"alerts": {"one": rule(URL), "deux": rule(URL)}})
    assert renamed.status_code == 201, renamed.text
    assert listed(client, tenant, beacon) == ["deux", "made through the API", "one"]
    # Dropping a rule from beacon.yml deletes it and gives its place back.
    assert deploy(client, key, {"alerts": {"one": rule(URL)}}).status_code == 201
    assert create(client, tenant, "room again").status_code == 201
    assert listed(client, tenant, beacon) == ["made through the API", "one", "room again"]


def made_before_books(beacon: Beacon, tenant: Tenant, rules: int) -> None:
    """Rules saved as the release before books saved them: with no book entry."""
    for n in range(rules):
        beacon.alerts.save(Alert.create(
            alert_id=uuid.uuid4(), workspace_id=uuid.UUID(tenant.id), name=f"old {n}",
            condition={"type": "threshold", "event": "x", "metric": "count",
                       "window_seconds": 60, "op": ">", "value": 1},
            channels=[{"id": str(uuid.uuid4()), "type": "webhook", "url": URL,
                       "secret": "s" * 20}],
            cooldown_seconds=0, actor={"key_id": None, "name": "before books"},
            at=beacon.alerts.clock()))


def test_rules_made_before_the_cap_was_counted_count_towards_it(
        client: TestClient, tenant: Tenant, beacon: Beacon) -> None:
    """An installation upgraded with rules already made has no book for them: the first
    creation opens one with the rules the read model lists."""
    made_before_books(beacon, tenant, MOST - 1)
    settle(beacon)
    assert create(client, tenant, "new").status_code == 201
    assert create(client, tenant, "one too many").status_code == 409
    assert listed(client, tenant, beacon) == ["new", "old 0", "old 1"]


def test_rules_made_before_books_are_counted_only_once_the_read_model_has_read_them(
        client: TestClient, tenant: Tenant, beacon: Beacon, monkeypatch: pytest.MonkeyPatch) -> None:
    """While the alerts read model is behind the log (a projector down or late), the first
    creation is refused with 503 and Retry-After rather than let past the cap on a short count."""
    runner = beacon.runner("alerts")
    reads = runner.catch_up
    monkeypatch.setattr(runner, "catch_up", lambda *args, **kwargs: 0)  # the read model stays behind
    monkeypatch.setattr(beacon.settings, "read_wait_seconds", 0.3)
    made_before_books(beacon, tenant, MOST - 1)
    refused = create(client, tenant, "new")
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "not_ready" and refused.headers["Retry-After"]

    monkeypatch.setattr(runner, "catch_up", reads)  # the projector catches up
    runner.wake()
    assert create(client, tenant, "new").status_code == 201
    assert create(client, tenant, "one too many").status_code == 409
    assert listed(client, tenant, beacon) == ["new", "old 0", "old 1"]


def test_the_count_holds_over_many_rules_made_and_deleted(
        client: TestClient, tenant: Tenant, beacon: Beacon) -> None:
    """Each creation and deletion is an event of the workspace's book, loaded from a snapshot
    once it has many."""
    workspace_id, actor = uuid.UUID(tenant.id), {"key_id": None, "name": "churn"}
    condition = {"type": "threshold", "event": "x", "metric": "count", "window_seconds": 60,
                 "op": ">", "value": 1}
    for n in range(60):
        made = beacon.alerts.create_alert(
            workspace_id, name=f"churn {n}", condition=condition, cooldown_seconds=0,
            channels=[{"type": "webhook", "url": URL}], actor=actor)
        beacon.alerts.delete_alert(workspace_id, made.id, actor=actor)
    book = beacon.alerts.book(workspace_id)
    assert book.version > 100 and book.rule_ids == []
    assert beacon.alerts.snapshots is not None
    assert list(beacon.alerts.snapshots.get(book.id))  # loaded from a snapshot, not 120 events
    assert [create(client, tenant, f"rule {n}").status_code for n in range(MOST + 1)] == \
        [201] * MOST + [409]
