"""`GET /metrics` on the asynchronous pipeline, through a real server: open and ended live streams,
webhooks waiting to go out, and how far behind the clock alert evaluation is."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon
from tests.conftest import ADMIN, Tenant, settle
from tests.e2e.sse import open_stream
from tests.polling import eventually


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"stream_key_check_seconds": 0.2,
                                       "stream_keepalive_seconds": 0.3,
                                       "allow_private_webhooks": True})


def metrics(server: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{server}/metrics").text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_open_and_ended_streams_are_counted(server: str, client: TestClient,
                                            tenant: Tenant) -> None:
    assert metrics(server)[("beacon_streams_open", ())] == 0
    with open_stream(server, tenant.keys["read"]) as stream:
        assert metrics(server)[("beacon_streams_open", ())] == 1
        revoked = client.delete(f"/admin/v1/workspaces/{tenant.id}/keys/{tenant.key_ids['read']}",
                                headers=ADMIN)
        assert revoked.status_code == 204
        assert [m.event for m in stream.until_closed()] == ["revoked"]
    assert eventually(lambda: metrics(server)[("beacon_streams_open", ())] == 0)
    assert metrics(server)[("beacon_streams_ended_total", (("reason", "revoked"),))] == 1
    assert metrics(server)[("beacon_streams_ended_total", (("reason", "overflow"),))] == 0


def test_webhooks_waiting_and_alert_evaluation_delay(server: str, beacon: Beacon,
                                                     client: TestClient, tenant: Tenant) -> None:
    subscribed = client.post(f"/api/v1/pages/{tenant.page_slug}/subscribers",
                             headers=tenant.headers("write"),
                             json={"url": "http://127.0.0.1:9/hook"})
    assert subscribed.status_code == 201, subscribed.text
    opened = client.post(f"/api/v1/pages/{tenant.page_slug}/incidents",
                         headers=tenant.headers("write"), json={"title": "Checkout down"})
    assert opened.status_code == 201, opened.text
    settle(beacon)  # the outbox has the delivery; no worker here sends it
    waiting = ("beacon_webhooks_waiting", (("outbox", "subscribers"),))
    assert metrics(server)[waiting] == 1
    assert metrics(server)[("beacon_webhooks_waiting", (("outbox", "alerts"),))] == 0
    beacon.webhooks.sweep(beacon.webhooks.deliver)  # refused by the closed port: a retry waits
    assert metrics(server)[waiting] == 1

    behind = ("beacon_alert_evaluation_behind_seconds", ())
    assert behind not in metrics(server)  # never evaluated yet: nothing to say
    beacon.jobs.evaluate_alerts()
    assert 0 <= metrics(server)[behind] < 60
