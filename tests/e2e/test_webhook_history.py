"""BEACON_WEBHOOK_HISTORY_DAYS: the worker forgets deliveries (with their attempts) whose event is
older than that, in both outboxes; one still waiting for a retry is kept, and rebuilding an outbox
after its deliveries were forgotten forgets them again and sends none of them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon
from interfaces.jobs import WEBHOOK_PRUNE_SECONDS, periodic_jobs
from tests.conftest import FakeClock, Tenant
from tests.e2e.test_alert_channel_tests import deliver, deliveries, send_test
from tests.e2e.test_alerts import create
from tests.e2e.test_webhooks import deliveries as page_deliveries
from tests.e2e.test_webhooks import dispatch, patch, subscribed_incident
from tests.receiver import Receiver

DAYS = 10


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_history_days": DAYS})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def test_deliveries_older_than_the_history_are_forgotten_in_both_outboxes(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    client, tenant, beacon = clocked_client, tenant_on_clock, clocked_beacon
    incident = subscribed_incident(client, tenant, receiver)
    alert = create(client, tenant, receiver.url)
    old_test = send_test(client, tenant, alert["id"])
    assert dispatch(beacon) == 1
    deliver(beacon)
    assert receiver.wait_for_deliveries({d["id"] for d in old_test})
    clock.advance(days=DAYS - 1)
    patch(client, tenant, incident["id"], impact="major")  # inside the history: kept
    assert dispatch(beacon) == 1
    clock.advance(days=2)  # the first two deliveries are now DAYS + 1 days old

    assert beacon.jobs.prune_webhooks() == 2
    assert [d["type"] for d in page_deliveries(client, tenant)] == ["incident.changed"]
    [channel] = deliveries(client, tenant, alert["id"])
    assert channel["deliveries"] == []
    for store in (beacon.webhooks.store, beacon.alert_webhooks.store):
        attempts = store.db.query(f"SELECT COUNT(*) AS n FROM {store.attempts.name}")[0]["n"]
        assert attempts == (1 if store is beacon.webhooks.store else 0)
    assert beacon.jobs.prune_webhooks() == 0  # nothing else is old enough

    # Rebuilding an outbox makes the forgotten deliveries again from the log: forgotten again at
    # once, never sent again.
    beacon.rebuild("webhook_deliveries")
    beacon.rebuild("alerts")
    assert dispatch(beacon) == 0
    deliver(beacon)
    assert len(receiver.received) == 3
    assert [d["type"] for d in page_deliveries(client, tenant)] == ["incident.changed"]
    assert deliveries(client, tenant, alert["id"])[0]["deliveries"] == []
    assert beacon.jobs.prune_webhooks() == 0


def test_a_delivery_waiting_for_a_retry_is_kept_however_old(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    with Receiver(statuses=[503]) as receiver:
        alert = create(clocked_client, tenant_on_clock, receiver.url)
        send_test(clocked_client, tenant_on_clock, alert["id"])
        deliver(clocked_beacon)
        assert receiver.wait_for_requests(1)
    clock.advance(days=DAYS + 5)  # the worker was down all that time
    assert clocked_beacon.jobs.prune_webhooks() == 0
    [channel] = deliveries(clocked_client, tenant_on_clock, alert["id"])
    [waiting] = channel["deliveries"]
    assert waiting["status"] == "pending" and waiting["attempts"][0]["status_code"] == 503


def test_the_worker_forgets_old_deliveries_hourly(clocked_beacon: Beacon) -> None:
    scheduled = {job.name: job.every_seconds for job in periodic_jobs(clocked_beacon.actors)}
    assert scheduled["prune_webhooks"] == WEBHOOK_PRUNE_SECONDS == 3600


def test_a_history_no_longer_than_the_never_tried_week_is_refused() -> None:
    with pytest.raises(ValueError, match="webhook_history_days"):
        Settings(webhook_history_days=7)
