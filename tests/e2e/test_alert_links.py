"""BEACON_PUBLIC_URL: where people reach Beacon. Alert webhooks then link to the rule in the
dashboard and to what made it fire (the exception group, the monitor); status-page feeds and
monitors' ping URLs use it instead of the request's own address (behind a proxy an inner one)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import quote

import feedparser
import pytest
from fastapi.testclient import TestClient

from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon
from tests.conftest import FakeClock, Tenant, settle
from tests.e2e.test_alert_conditions import backup_monitor, create_rule, report
from tests.e2e.test_alerts import create, evaluate, track
from tests.e2e.test_public_components_and_feeds import open_incident
from tests.receiver import Receiver

PUBLIC = "https://beacon.example.com/ops"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"public_url": Settings(public_url=PUBLIC + "/").public_url})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def app_of(beacon: Beacon, tenant: Tenant) -> str:
    return f"{PUBLIC}/app/{beacon.workspaces.slug_of(uuid.UUID(tenant.id))}"


def test_a_threshold_rules_webhooks_link_to_the_rule(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    alert = create(clocked_client, tenant_on_clock, receiver.url)
    track(clocked_client, tenant_on_clock, clock, 3)
    evaluate(clocked_beacon)
    [fired] = receiver.received
    assert fired.json["links"] == {
        "alert": f"{app_of(clocked_beacon, tenant_on_clock)}/alerts?alert={alert['id']}"}


def test_an_exception_group_rules_webhook_links_to_the_group_that_made_it_fire(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    alert = create_rule(clocked_client, tenant_on_clock, receiver.url, type="exception_group",
                        trigger="new", window_seconds=60)
    clock.advance(seconds=5)
    report(clocked_client, tenant_on_clock, clock)
    evaluate(clocked_beacon)
    [fired] = receiver.received
    [group] = fired.json["cause"]["groups"]
    app = app_of(clocked_beacon, tenant_on_clock)
    assert fired.json["links"] == {
        "alert": f"{app}/alerts?alert={alert['id']}",
        "cause": f"{app}/exceptions?group={quote(group['fingerprint'])}"}


def test_a_monitor_rules_webhook_links_to_the_monitor(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock, receiver: Receiver) -> None:
    monitor = backup_monitor(clocked_client, tenant_on_clock)
    assert monitor["ping_url"] == f"{PUBLIC}/api/v1/beet/{monitor['token']}"
    create_rule(clocked_client, tenant_on_clock, receiver.url, type="monitor", trigger="down",
                monitor_id=monitor["id"])
    clocked_client.get(f"/api/v1/beet/{monitor['token']}")
    clock.advance(seconds=91)
    settle(clocked_beacon)
    clocked_beacon.jobs.check_monitors()
    evaluate(clocked_beacon)
    [fired] = receiver.received
    assert fired.json["links"]["cause"] == \
        f"{app_of(clocked_beacon, tenant_on_clock)}/monitors/{monitor['id']}"


def test_status_page_feeds_link_to_the_public_address(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant) -> None:
    open_incident(clocked_client, tenant_on_clock, message="Investigating.")
    settle(clocked_beacon)
    response = clocked_client.get(f"/status/{tenant_on_clock.page_slug}/feed.atom")
    assert response.status_code == 200, response.text
    feed = feedparser.parse(response.content)
    assert feed.entries and all(e.link.startswith(f"{PUBLIC}/status/") for e in feed.entries)


def test_a_public_url_that_is_not_an_http_address_is_refused_at_start() -> None:
    for wrong in ("beacon.example.com", "ftp://beacon.example.com", "https://x.dev/?a=1"):
        with pytest.raises(ValueError, match="BEACON_PUBLIC_URL"):
            Settings(public_url=wrong)
