"""Subscriber webhooks: the event log as outbox, signed deliveries, retries, and nothing lost."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.ids import delivery_id
from infrastructure.settings import Settings
from infrastructure.webhook_sender import HttpWebhookSender
from interfaces.bootstrap import Beacon, bootstrap
from interfaces.rest.app import create_app
from projections.model import micros
from tests.conftest import FakeClock, Tenant, data_of, make_tenant, settle
from tests.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def subscribe(client: TestClient, tenant: Tenant, url: str, **body: Any) -> dict:
    return data_of(client.post(f"/api/v1/pages/{tenant.page_slug}/subscribers",
                               json={"url": url, **body}, headers=tenant.headers("write")), 201)


def open_incident(client: TestClient, tenant: Tenant, **body: Any) -> dict:
    return data_of(client.post(f"/api/v1/pages/{tenant.page_slug}/incidents",
                               json={"title": "API latency", "impact": "minor", **body},
                               headers=tenant.headers("write")), 201)


def patch(client: TestClient, tenant: Tenant, incident_id: str, **body: Any) -> dict:
    return data_of(client.patch(f"/api/v1/incidents/{incident_id}", json=body,
                                headers=tenant.headers("write")))


def subscribed_incident(client: TestClient, tenant: Tenant, receiver: Receiver) -> dict:
    """Subscribe the receiver to the tenant's page, then open an incident there."""
    subscribe(client, tenant, receiver.url)
    return open_incident(client, tenant)


def dispatch(beacon: Beacon) -> int:
    settle(beacon)
    return beacon.webhooks.sweep(beacon.webhooks.deliver)  # every due delivery, in this thread


def deliveries(client: TestClient, tenant: Tenant) -> list[dict]:
    response = client.get(f"/api/v1/pages/{tenant.page_slug}/subscribers",
                          headers=tenant.headers("read"))
    assert response.status_code == 200
    return [d for s in response.json()["data"] for d in s["deliveries"]]


def test_a_change_is_delivered_signed_with_the_incident_and_what_changed(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        receiver: Receiver, clock: FakeClock) -> None:
    subscriber = subscribe(clocked_client, tenant_on_clock, receiver.url)
    assert subscriber["secret"].startswith("whsec_") and len(subscriber["secret"]) > 40
    incident = open_incident(clocked_client, tenant_on_clock)
    clock.advance(minutes=5)
    patch(clocked_client, tenant_on_clock, incident["id"], impact="major", state="identified")
    assert dispatch(clocked_beacon) == 2
    created, changed = receiver.received
    for request in (created, changed):
        assert request.signed_with(subscriber["secret"])
        assert request.headers["x-beacon-delivery"] == request.json["id"]
        assert request.headers["content-type"] == "application/json"
    assert created.json["type"] == "incident.created"
    body = changed.json
    assert body["type"] == "incident.changed" and body["page"] == {"slug": "acme-cloud"}
    assert body["changes"] == {"impact": {"before": "minor", "after": "major"},
                               "state": {"before": "investigating", "after": "identified"}}
    assert (body["incident"]["id"], body["incident"]["impact"], body["incident"]["state"]) == \
        (incident["id"], "major", "identified")
    assert body["occurred_at"] == "2026-04-04T12:05:00.000000Z"
    assert not request.signed_with("whsec_someone-elses-secret-000000")


def test_updates_resolutions_and_reopenings_each_notify(clocked_client: TestClient,
                                                        clocked_beacon: Beacon,
                                                        tenant_on_clock: Tenant,
                                                        receiver: Receiver) -> None:
    subscribe(clocked_client, tenant_on_clock, receiver.url, secret="my-own-secret-0123456789")
    incident = open_incident(clocked_client, tenant_on_clock, message="Looking into it")
    clocked_client.post(f"/api/v1/incidents/{incident['id']}/updates",
                        json={"message": "Fix deployed"}, headers=tenant_on_clock.headers("write"))
    patch(clocked_client, tenant_on_clock, incident["id"], resolved=True)
    patch(clocked_client, tenant_on_clock, incident["id"], state="monitoring")
    dispatch(clocked_beacon)
    assert [r.json["type"] for r in receiver.received] == [
        "incident.created", "incident.update_posted", "incident.update_posted",
        "incident.resolved", "incident.reopened"]
    assert all(r.signed_with("my-own-secret-0123456789") for r in receiver.received)
    resolved = receiver.received[3].json
    assert resolved["changes"]["resolved"] == {"before": False, "after": True}
    assert resolved["incident"]["resolved_at"] == resolved["changes"]["resolved_at"]["after"]


def test_a_patch_that_changes_nothing_notifies_nobody(clocked_client: TestClient,
                                                      clocked_beacon: Beacon,
                                                      tenant_on_clock: Tenant,
                                                      receiver: Receiver) -> None:
    incident = subscribed_incident(clocked_client, tenant_on_clock, receiver)
    assert dispatch(clocked_beacon) == 1
    patch(clocked_client, tenant_on_clock, incident["id"], impact="minor", title="API latency")
    assert dispatch(clocked_beacon) == 0
    assert len(receiver.received) == 1 and len(deliveries(clocked_client, tenant_on_clock)) == 1


def test_only_subscribers_of_the_page_at_the_time_receive(clocked_client: TestClient,
                                                          clocked_beacon: Beacon,
                                                          tenant_on_clock: Tenant) -> None:
    with Receiver() as early, Receiver() as late, Receiver() as elsewhere:
        first = subscribe(clocked_client, tenant_on_clock, early.url)
        other = make_tenant(clocked_client, name="Other", slug="other")
        subscribe(clocked_client, other, elsewhere.url)
        incident = open_incident(clocked_client, tenant_on_clock)
        subscribe(clocked_client, tenant_on_clock, late.url)
        removed = clocked_client.delete(
            f"/api/v1/pages/{tenant_on_clock.page_slug}/subscribers/{first['id']}",
            headers=tenant_on_clock.headers("write"))
        assert removed.status_code == 204
        patch(clocked_client, tenant_on_clock, incident["id"], impact="major")
        dispatch(clocked_beacon)
        assert [r.json["type"] for r in early.received] == []  # removed before it was sent
        assert [r.json["type"] for r in late.received] == ["incident.changed"]
        assert elsewhere.received == []
    again = clocked_client.delete(
        f"/api/v1/pages/{tenant_on_clock.page_slug}/subscribers/{first['id']}",
        headers=tenant_on_clock.headers("write"))
    assert again.status_code == 404


def test_a_failing_receiver_is_retried_with_backoff_and_every_attempt_recorded(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    with Receiver(statuses=[500, 503]) as receiver:
        subscribed_incident(clocked_client, tenant_on_clock, receiver)
        assert dispatch(clocked_beacon) == 1
        assert dispatch(clocked_beacon) == 0  # the retry waits for its backoff
        clock.advance(seconds=29)
        assert dispatch(clocked_beacon) == 0
        clock.advance(seconds=1)
        assert dispatch(clocked_beacon) == 1
        clock.advance(seconds=59)
        assert dispatch(clocked_beacon) == 0
        clock.advance(seconds=1)
        assert dispatch(clocked_beacon) == 1
        assert len(receiver.delivery_ids()) == 1 and len(receiver.received) == 3
    (delivery,) = deliveries(clocked_client, tenant_on_clock)
    assert delivery["status"] == "delivered" and delivery["id"] in receiver.delivery_ids()
    assert [(a["attempt"], a["status_code"], a["outcome"]) for a in delivery["attempts"]] == [
        (1, 500, "pending"), (2, 503, "pending"), (3, 200, "delivered")]
    assert delivery["attempts"][0]["error"] == "HTTP 500"
    assert all(a["duration_ms"] >= 0 for a in delivery["attempts"])
    assert [r.headers["x-beacon-attempt"] for r in receiver.received] == ["1", "2", "3"]
    assert len({r.body for r in receiver.received}) == 1  # the same signed bytes every time


def test_an_unreachable_receiver_is_given_up_after_the_last_try(
        settings: Settings, clock: FakeClock) -> None:
    beacon = bootstrap(settings.model_copy(update={"allow_private_webhooks": True,
                                                   "webhook_max_attempts": 3}), clock=clock)
    try:
        with TestClient(create_app(beacon)) as client:
            tenant = make_tenant(client)
            with Receiver() as gone:
                url = gone.url  # a port nobody listens on once it is closed
            subscribe(client, tenant, url)
            open_incident(client, tenant)
            for _ in range(5):
                dispatch(beacon)
                clock.advance(hours=2)
            (delivery,) = deliveries(client, tenant)
            assert delivery["status"] == "failed" and len(delivery["attempts"]) == 3
            assert all(a["error"].startswith("connection failed") for a in delivery["attempts"])
    finally:
        beacon.close()


def test_urls_resolving_to_private_addresses_are_refused(settings: Settings) -> None:
    beacon = bootstrap(settings)
    try:
        with TestClient(create_app(beacon)) as client:
            tenant = make_tenant(client)
            for url in ("http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/",
                        "http://169.254.169.254/latest", "http://[::1]/", "http://192.168.0.1/",
                        "ftp://example.com/", "not a url", "http://user:pw@example.com/",
                        # IPv4 inside IPv6: NAT64's prefix, 6to4, Teredo, mapped
                        "http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/",
                        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
                        "http://[::ffff:10.0.0.1]/",
                        "http://example.com/a\r\nX-Evil: 1", "http://example.com/a b"):
                response = client.post(f"/api/v1/pages/{tenant.page_slug}/subscribers",
                                       json={"url": url}, headers=tenant.headers("write"))
                assert response.status_code == 422, url
    finally:
        beacon.close()


def test_a_receiver_that_became_private_is_refused_at_send_time(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        receiver: Receiver) -> None:
    subscribed_incident(clocked_client, tenant_on_clock, receiver)
    sender = clocked_beacon.webhooks.sender
    assert isinstance(sender, HttpWebhookSender)
    sender.allow_private = False  # as if its DNS now pointed inside
    dispatch(clocked_beacon)
    (delivery,) = deliveries(clocked_client, tenant_on_clock)
    assert receiver.received == [] and delivery["status"] == "failed"
    assert "private" in delivery["attempts"][0]["error"]


def test_no_delivery_is_lost_when_the_worker_stops_mid_way_and_starts_again(
        settings: Settings, clock: FakeClock, receiver: Receiver) -> None:
    settings = settings.model_copy(update={"allow_private_webhooks": True})
    first = bootstrap(settings, clock=clock)
    try:
        with TestClient(create_app(first)) as client:
            tenant = make_tenant(client)
            subscribe(client, tenant, receiver.url)
            incident = open_incident(client, tenant, message="first")
            for impact in ("major", "critical"):
                patch(client, tenant, incident["id"], impact=impact)
        settle(first)
        expected = {str(delivery_id(*key.values()))
                    for key in first.webhooks.store.due(micros(clock()), limit=100)}
        assert len(expected) == 4
        first.webhooks.sweep(first.webhooks.deliver, limit=1)  # one goes out…
        first.webhooks.sweep(lambda key, attempt: None, limit=1)  # …one dies mid-attempt
        assert len(receiver.delivery_ids()) == 1
    finally:
        first.close()  # and whatever was queued in this process is gone with it
    clock.advance(minutes=6)  # the dead attempt's lease runs out
    second = bootstrap(settings, clock=clock)
    try:
        second.start_projections()
        second.start_worker()
        assert receiver.wait_for_deliveries(expected), receiver.delivery_ids()
        assert receiver.delivery_ids() == expected
        assert second.webhooks.store.due(micros(clock())) == []
    finally:
        second.close()


def test_rebuilding_the_outbox_sends_nothing_twice(clocked_client: TestClient,
                                                   clocked_beacon: Beacon,
                                                   tenant_on_clock: Tenant,
                                                   receiver: Receiver) -> None:
    incident = subscribed_incident(clocked_client, tenant_on_clock, receiver)
    patch(clocked_client, tenant_on_clock, incident["id"], impact="major")
    assert dispatch(clocked_beacon) == 2
    clocked_beacon.rebuild("webhook_deliveries")
    assert dispatch(clocked_beacon) == 0
    assert [d["status"] for d in deliveries(clocked_client, tenant_on_clock)] == \
        ["delivered", "delivered"]
    assert len(receiver.received) == 2


def test_a_webhook_shows_the_incident_and_its_change_as_the_rest_api_does(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        receiver: Receiver) -> None:
    incident = subscribed_incident(clocked_client, tenant_on_clock, receiver)
    patch(clocked_client, tenant_on_clock, incident["id"], impact="major")
    assert dispatch(clocked_beacon) == 2
    sent = receiver.received[-1].json
    url, read = f"/api/v1/incidents/{incident['id']}", tenant_on_clock.headers("read")
    assert sent["incident"] == clocked_client.get(url, headers=read).json()["data"]
    (*_, last) = clocked_client.get(f"{url}/history", headers=read).json()["data"]
    assert sent["changes"] == {c["field"]: {"before": c["before"], "after": c["after"]}
                               for c in last["changes"]}


def test_a_delivery_never_tried_within_a_week_expires_but_a_retry_is_still_made(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    """The worker was down for eight days: what was never tried is not sent a week late (and
    reads `expired`), while a delivery already retrying keeps its retries."""
    with Receiver(statuses=[503]) as receiver:
        subscribe(clocked_client, tenant_on_clock, receiver.url)
        incident = open_incident(clocked_client, tenant_on_clock)
        assert dispatch(clocked_beacon) == 1  # tried once, 503: a retry is due in 30 s
        patch(clocked_client, tenant_on_clock, incident["id"], impact="major")
        settle(clocked_beacon)  # the change's delivery is in the outbox, never tried
        clock.advance(days=8)
        assert dispatch(clocked_beacon) == 1  # the retry, not the week-old change
        assert receiver.wait_for_requests(2)
    shown = {d["type"]: d["status"] for d in deliveries(clocked_client, tenant_on_clock)}
    assert shown == {"incident.created": "delivered", "incident.changed": "expired"}
