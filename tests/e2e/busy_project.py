"""A project that has written to every read model, and a look at every table for its traces.

The deletion tests fill one (events, a session, an exception, a page's components, incidents,
maintenance and subscribers, a monitor with beats and runs, an alert that fired, a deploy with a
tracking plan that flagged an event, keys) on a Beacon that allows webhooks to this machine
(`beacon_allowing_webhooks`; nothing is ever sent), delete it, and then look in every table named rm_*
(and the delivery tables beside them), found by asking the database, not Beacon, for any row that
still names the project or one of its things.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon, bootstrap
from tests.conftest import Tenant, data_of, settle
from tests.deploying import deploy, secret_key

DELIVERY_TABLES = {"webhook_delivery_state", "webhook_attempts", "alert_delivery_state",
                   "alert_attempts"}


@dataclass
class Traces:
    """The ids by which a project's rows can be recognised."""

    ids: set[str] = field(default_factory=set)

    def add(self, *values: Any) -> None:
        self.ids.update(str(v) for v in values)


@contextmanager
def beacon_allowing_webhooks(settings: Settings) -> Iterator[Beacon]:
    """A Beacon with projections running whose subscribers may be on this machine."""
    # Alert rules judge what was just received at once (no settle): `fill` evaluates right after.
    beacon = bootstrap(settings.model_copy(update={"allow_private_webhooks": True,
                                                   "alert_settle_seconds": 0}))
    beacon.start_projections()
    with closing(beacon):
        yield beacon


def now_iso(minutes: int = 0) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def fill(client: TestClient, beacon: Beacon, tenant: Tenant) -> Traces:
    """Write something into every read model for `tenant`; answers the ids to look for."""
    traces = Traces()
    traces.add(tenant.id)
    write, ingest = tenant.headers("write"), tenant.headers("ingest")
    page = f"/api/v1/pages/{tenant.page_slug}"
    component = data_of(client.post(f"{page}/components", json={"name": "API"}, headers=write),
                        201)
    subscriber = data_of(client.post(f"{page}/subscribers", headers=write, json={
        "url": "http://127.0.0.1:9/beacon", "components": [component["id"]]}), 201)
    incident = data_of(client.post(f"{page}/incidents", headers=write, json={
        "title": "Errors", "message": "Looking.", "components": {component["id"]: "major_outage"}}),
        201)
    maintenance = data_of(client.post(f"{page}/maintenances", headers=write, json={
        "title": "Upgrade", "scheduled_for": now_iso(60), "scheduled_until": now_iso(120),
        "components": [component["id"]]}), 201)
    data_of(client.post(f"/api/v1/maintenances/{maintenance['id']}/updates", headers=write,
                        json={"message": "Planned."}), 201)
    monitor = data_of(client.post("/api/v1/monitors", headers=write, json={
        "name": "backup", "period_seconds": 3600, "page_slug": tenant.page_slug,
        "max_runtime_seconds": 600}), 201)
    for path in ("/start", ""):
        assert client.get(f"/api/v1/beet/{monitor['token']}{path}",
                          params={"rid": "run-1"}).status_code == 200
    alert = data_of(client.post("/api/v1/alerts", headers=write, json={
        "name": "Checkouts failing", "channels": [{"type": "webhook",
                                                   "url": "http://127.0.0.1:9/alerts"}],
        "condition": {"type": "threshold", "event": "checkout_failed", "metric": "count",
                      "window_seconds": 3600, "op": ">", "value": 0}}), 201)
    deployed = deploy(client, secret_key(client, tenant), {
        "tracking_plan": {"on_violation": "flag", "events": {"signup_completed": {
            "properties": {"plan": {"type": "string", "allowed": ["free", "pro"]}}}}},
        "insights": {"signups": {"type": "timeseries", "event": "signup_completed"}}})
    assert deployed.status_code in (200, 201), deployed.text
    session = str(uuid.uuid4())
    data_of(client.post("/v1/events/sessions", headers=ingest, json={
        "session_id": session, "actor_id": "ann", "source_app": "App", "source_version": "2.0",
        "started_at": now_iso(-5)}), 201)
    events = [{"event_id": str(uuid.uuid4()), "category": "shop", "name": name, "actor_id": "ann",
               "timestamp": now_iso(-1), "session_id": session, "properties": {"plan": "gold"}}
              for name in ("checkout_failed", "signup_completed")]
    assert client.post("/v1/events", headers=ingest, json=events).status_code in (200, 207)
    assert client.post("/v1/events/exceptions", headers=ingest, json={
        "exception_id": str(uuid.uuid4()), "exception_type": "ValueError", "severity": "fatal",
        "occurred_at": now_iso(-1), "actor_id": "ann", "source_app": "App",
        "source_version": "2.0", "message": "boom", "stack_trace": "File \"a.py\", line 1"
    }).status_code in (200, 201, 202)
    settle(beacon)
    beacon.jobs.evaluate_alerts()
    settle(beacon)
    beacon.webhooks.sweep(lambda key, attempt: None)  # claimed: what became of it is recorded
    beacon.alert_webhooks.sweep(lambda key, attempt: None)
    traces.add(component["id"], subscriber["id"], incident["id"], maintenance["id"],
               monitor["id"], alert["id"], session)
    return traces


def tables_of(beacon: Beacon) -> list[tuple[Any, str]]:
    """Every read-model and delivery table, as the databases list them."""
    found = []
    for db in {id(d): d for d in beacon.databases.values()}.values():
        if db.dialect == "sqlite":
            names = [r["name"] for r in db.query(
                "SELECT name FROM sqlite_master WHERE type = 'table'")]
        else:
            names = [r["table_name"] for r in db.query(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()")]
        found += [(db, name) for name in names
                  if (name.startswith("rm_") and name != "rm_tracking"
                      and not name.endswith("__rebuild")) or name in DELIVERY_TABLES]
    return found


def rows_naming(beacon: Beacon, traces: Traces) -> dict[str, int]:
    """How many rows of each table name one of the traced ids in any column."""
    counts: dict[str, int] = {}
    for db, name in tables_of(beacon):
        for row in db.query(f"SELECT * FROM {name}"):
            if any(str(value) in traces.ids for value in row.values() if value is not None):
                counts[name] = counts.get(name, 0) + 1
    return counts
