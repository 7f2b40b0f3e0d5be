"""`dryRun`: the diff, and how the last 30 days' stored events would have fared under a new
tracking plan, counted here independently; nothing changes."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import Tenant, settle
from tests.deploying import NOW, deploy, event, secret_key

PLANS = ["free", "pro", "gold", None, 7]
NEW_PLAN = {"on_violation": "reject", "events": {
    "signup_completed": {"properties": {"plan": {"type": "string", "required": True,
                                                 "allowed": ["free", "pro"]}}},
    "visit": {"additional_properties": False, "properties": {"path": {"type": "string"}}}}}


def history(rng: random.Random) -> list[dict[str, Any]]:
    """Signups and visits over 40 days, some of them breaking NEW_PLAN."""
    events = []
    for n in range(120):
        day = rng.randrange(40)
        if rng.random() < 0.6:
            plan = rng.choice(PLANS)
            body = event(**({} if plan is None else {"plan": plan}))
        else:
            body = event("visit", path="/" if rng.random() < 0.7 else 3,
                         **({"ref": "ad"} if n % 5 == 0 else {}))
        body["timestamp"] = (NOW - timedelta(days=day, minutes=n)).isoformat()
        events.append(body)
    return events


def expected_violations(events: list[dict[str, Any]]) -> tuple[int, Counter[tuple[str, str, str]]]:
    """NEW_PLAN's verdict on the events of the last 30 days, written out by hand."""
    violating, top = 0, Counter[tuple[str, str, str]]()
    since = NOW - timedelta(days=30)
    for body in events:
        if body["timestamp"] < since.isoformat():
            continue
        props, found = body["properties"], []
        if body["name"] == "signup_completed":
            if "plan" not in props:
                found.append(("properties.plan", "is required"))
            elif not isinstance(props["plan"], str):
                found.append(("properties.plan", "must be of type string"))
            elif props["plan"] not in ("free", "pro"):
                found.append(("properties.plan", "must be one of free, pro"))
        else:
            if not isinstance(props["path"], str):
                found.append(("properties.path", "must be of type string"))
            if "ref" in props:
                found.append(("properties.ref", "is not in the tracking plan"))
        violating += bool(found)
        top.update((body["name"], field, message) for field, message in found)
    return violating, top


def test_a_dry_run_counts_the_last_30_days_violations_and_changes_nothing(
        client: TestClient, tenant: Tenant, beacon: Beacon) -> None:
    events = history(random.Random(20))
    for start in range(0, len(events), 50):
        response = client.post("/v1/events", json=events[start:start + 50],
                               headers=tenant.headers("ingest"))
        assert response.status_code == 200, response.text
    settle(beacon)
    key = secret_key(client, tenant)

    answer = deploy(client, key, {"tracking_plan": NEW_PLAN}, dry_run=True)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    violating, top = expected_violations(events)
    in_window = sum(e["timestamp"] >= (NOW - timedelta(days=30)).isoformat() for e in events)
    assert violating > 0 and in_window < len(events)
    assert body["dryRun"] is True and body["version"] == 0
    assert body["diff"]["tracking_plan"]["events"] == {"added": ["signup_completed", "visit"]}
    replay = body["trackingPlan"]
    assert (replay["events_checked"], replay["violating_events"]) == (in_window, violating)
    assert replay["would_reject"] == violating
    assert {(t["event"], t["field"], t["message"]): t["count"] for t in replay["top_violations"]} \
        == dict(top.most_common(10))

    assert client.get("/api/deploys", headers=key).json()["deploys"] == []
    still = client.post("/v1/events", json=[event(plan="gold")], headers=tenant.headers("ingest"))
    assert still.status_code == 200  # the plan was not deployed


def test_a_dry_run_without_a_tracking_plan_change_replays_nothing(client: TestClient,
                                                                  tenant: Tenant) -> None:
    key = secret_key(client, tenant)
    document = {"tracking_plan": NEW_PLAN}
    deploy(client, key, document)
    answer = deploy(client, key, {**document, "pages": {"api": {"name": "API"}}}, dry_run=True)
    assert answer.json()["diff"] == {"pages": {"added": ["api"]}}
    assert answer.json()["trackingPlan"] is None and answer.json()["version"] == 1
