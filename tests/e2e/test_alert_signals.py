"""Alerts are evaluated when the read models they measure move, not when a timer says so: with
the periodic evaluation and sweeps an hour apart, a crossing is still told (embedded default:
projections and the worker in this process)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from infrastructure.settings import Settings
from interfaces import jobs
from interfaces.bootstrap import Beacon, bootstrap
from interfaces.rest.app import create_app
from tests.conftest import data_of, make_tenant
from tests.receiver import Receiver

SECRET = "alert-secret-0123456789"


@pytest.fixture
def untimed_beacon(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Beacon]:
    """Projections and a worker whose scheduler runs evaluation and sweeps once, at start."""
    monkeypatch.setattr(jobs, "ALERT_EVALUATION_SECONDS", 3600)
    monkeypatch.setattr(jobs, "WEBHOOK_SWEEP_SECONDS", 3600)
    beacon = bootstrap(settings.model_copy(update={"allow_private_webhooks": True}))
    beacon.start_projections()
    beacon.start_worker()
    with closing(beacon):
        yield beacon


def test_a_crossing_is_told_without_waiting_for_a_timer(untimed_beacon: Beacon) -> None:
    with TestClient(create_app(untimed_beacon)) as client, Receiver() as receiver:
        tenant = make_tenant(client)
        created = client.post("/api/v1/alerts", headers=tenant.headers("write"), json={
            "name": "Checkouts failing", "cooldown_seconds": 0,
            "condition": {"type": "threshold", "event": "checkout_failed", "metric": "count",
                          "window_seconds": 60, "op": ">", "value": 2},
            "channels": [{"type": "webhook", "url": receiver.url, "secret": SECRET}]})
        alert = data_of(created, 201)
        data_of(client.get("/api/v1/alerts", headers=tenant.headers(
            "read", **{"X-Beacon-Min-Position": created.headers["X-Beacon-Position"]})))
        now = datetime.now(UTC).isoformat()
        tracked = client.post("/v1/events", headers=tenant.headers("ingest"), json=[
            {"event_id": str(uuid.uuid4()), "category": "shop", "name": "checkout_failed",
             "timestamp": now, "actor_id": f"user-{n}"} for n in range(3)])
        assert tracked.status_code == 200 and tracked.json()["accepted"] == 3

        assert receiver.wait_for_requests(1), "no webhook without the timer"
        (fired,) = receiver.received
        assert fired.json["type"] == "alert.fired" and fired.json["alert"]["id"] == alert["id"]
        assert fired.signed_with(SECRET)
