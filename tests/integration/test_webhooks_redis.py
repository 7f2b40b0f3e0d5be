"""Webhooks through the production shape: Redis broker, worker threads and the scheduler's sweep."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon, bootstrap
from interfaces.rest.app import create_app
from tests.conftest import ADMIN_TOKEN, make_tenant
from tests.receiver import Receiver
from tests.services import require_redis


@pytest.fixture
def redis_beacon(tmp_path: Any) -> Iterator[Beacon]:
    settings = Settings(env="test", data_dir=tmp_path, redis_url=require_redis(),
                        admin_token=ADMIN_TOKEN, allow_private_webhooks=True)
    beacon = bootstrap(settings)
    beacon.broker.flush_all()
    try:
        yield beacon
    finally:
        beacon.close()


def test_a_worker_on_redis_delivers_a_signed_webhook(redis_beacon: Beacon) -> None:
    redis_beacon.start_projections()
    redis_beacon.start_worker()
    with TestClient(create_app(redis_beacon)) as client, Receiver() as receiver:
        tenant = make_tenant(client)
        subscriber = client.post(f"/api/v1/pages/{tenant.page_slug}/subscribers",
                                 json={"url": receiver.url},
                                 headers=tenant.headers("write")).json()["data"]
        incident = client.post(f"/api/v1/pages/{tenant.page_slug}/incidents",
                               json={"title": "Queue backlog", "impact": "major"},
                               headers=tenant.headers("write")).json()["data"]
        assert receiver.wait_for_requests(1), "the Redis worker delivered nothing"
        (request,) = receiver.received
        assert request.signed_with(subscriber["secret"])
        assert request.json["incident"]["id"] == incident["id"]
        assert request.json["type"] == "incident.created"
