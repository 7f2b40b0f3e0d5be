"""The public status page as a visitor and a script see it: HTML and JSON, no key needed."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import FakeClock, Tenant, make_tenant, settle


def incident(client: TestClient, tenant: Tenant, **body: Any) -> str:
    response = client.post(f"/api/v1/pages/{tenant.page_slug}/incidents", json=body,
                           headers=tenant.headers("write"))
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def page(client: TestClient, beacon: Beacon, slug: str = "acme-cloud") -> tuple[str, dict]:
    settle(beacon)
    html = client.get(f"/status/{slug}")
    summary = client.get(f"/status/{slug}.json")
    assert html.status_code == 200 and summary.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    return html.text, summary.json()


def test_an_empty_page_is_operational_with_no_incidents(clocked_client: TestClient,
                                                        clocked_beacon: Beacon,
                                                        tenant_on_clock: Tenant) -> None:
    html, summary = page(clocked_client, clocked_beacon)
    assert "Acme status" in html and "All systems operational" in html
    assert "No active incidents." in html and "No incidents in the last 90 days." in html
    assert "<script" not in html.lower()
    assert summary["status"] == {"indicator": "operational",
                                 "description": "All systems operational"}
    assert summary["page"] == {"slug": "acme-cloud", "name": "Acme status"}


def test_active_incidents_with_timelines_set_the_status_and_resolved_ones_go_to_history(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    write = tenant_on_clock.headers("write")
    latency = incident(clocked_client, tenant_on_clock, title="Elevated API latency",
                       impact="minor", message="Looking at p99 in US-East.")
    clock.advance(minutes=10)
    clocked_client.post(f"/api/v1/incidents/{latency}/updates",
                        json={"message": "Routing rule <fixed>; deploying."}, headers=write)
    failover = incident(clocked_client, tenant_on_clock, title="Database failover",
                        impact="critical")
    html, summary = page(clocked_client, clocked_beacon)
    assert "Major outage" in html and summary["status"]["indicator"] == "major_outage"
    clocked_client.patch(f"/api/v1/incidents/{failover}", json={"resolved": True}, headers=write)
    html, summary = page(clocked_client, clocked_beacon)
    assert summary["status"]["indicator"] == "degraded" and "Degraded performance" in html
    active = html[html.index('id="active-incidents"'):html.index('id="history"')]
    history = html[html.index('id="history"'):]
    assert "Elevated API latency" in active and "Database failover" not in active
    assert "Database failover" in history
    assert active.index("Routing rule &lt;fixed&gt;; deploying.") < \
        active.index("Looking at p99 in US-East.")  # newest first, and escaped
    (listed,) = summary["active_incidents"]
    assert [u["message"] for u in listed["updates"]] == ["Routing rule <fixed>; deploying.",
                                                         "Looking at p99 in US-East."]
    assert [i["title"] for i in summary["history"]] == ["Database failover"]
    clock.advance(days=91)
    _, summary = page(clocked_client, clocked_beacon)
    assert summary["history"] == []


def test_each_linked_monitor_shows_ninety_days_of_uptime(clocked_client: TestClient,
                                                         clocked_beacon: Beacon,
                                                         tenant_on_clock: Tenant,
                                                         clock: FakeClock) -> None:
    created = clocked_client.post("/api/v1/monitors", json={
        "name": "Checkout API", "period_seconds": 60, "grace_seconds": 0,
        "page_slug": "acme-cloud"}, headers=tenant_on_clock.headers("write")).json()["data"]
    clocked_client.get(f"/api/v1/beet/{created['token']}")
    clock.advance(days=2)  # down since a minute after the beat, whenever the check notices
    settle(clocked_beacon)
    clocked_beacon.jobs.check_monitors()
    clock.advance(hours=1)
    clocked_client.get(f"/api/v1/beet/{created['token']}")
    settle(clocked_beacon)
    clocked_beacon.jobs.check_monitors()
    html, summary = page(clocked_client, clocked_beacon)
    (monitor,) = summary["monitors"]
    assert monitor["name"] == "Checkout API" and len(monitor["days"]) == 90
    states = [d["state"] for d in monitor["days"]]
    assert states[:87] == ["none"] * 87 and states[87:] == ["down", "down", "down"]
    assert monitor["uptime_percent"] == round(100 * 60 / (2 * 86_400 + 3600), 2)
    bar = html[html.index('aria-label="daily uptime of Checkout API"'):]
    bar = bar[:bar.index("</div>")]
    assert len(re.findall(r"<span class=\"(up|down|none)\"", bar)) == 90
    # the outage opened an incident on the page, and beats resolved it: it is history now
    assert [i["title"] for i in summary["history"]] == ["Checkout API is down"]


def test_unknown_pages_are_404_and_the_first_page_with_a_slug_is_the_public_one(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant) -> None:
    missing = clocked_client.get("/status/nope")
    assert missing.status_code == 404 and "Status page not found" in missing.text
    assert clocked_client.get("/status/nope.json").status_code == 404
    later = make_tenant(clocked_client, name="Copycat", slug="acme-cloud")
    incident(clocked_client, later, title="Not ours", impact="critical")
    html, summary = page(clocked_client, clocked_beacon)
    assert summary["page"]["name"] == "Acme status" and "Not ours" not in html
