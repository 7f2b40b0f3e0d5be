"""The public page's components, maintenance and feeds, read as a visitor and a feed reader would."""

from __future__ import annotations

from datetime import timedelta

import feedparser
from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import FakeClock, Tenant, data_of, settle
from tests.e2e.test_components import add_component
from tests.e2e.test_maintenance import schedule
from tests.e2e.test_uptime import uptime


def open_incident(client: TestClient, tenant: Tenant, **body: object) -> dict:
    return data_of(client.post(f"/api/v1/pages/{tenant.page_slug}/incidents",
                               json={"title": "Elevated API latency", **body},
                               headers=tenant.headers("write")), 201)


def test_the_page_shows_components_by_group_maintenance_and_what_incidents_affect(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    api = add_component(clocked_client, tenant_on_clock, "API", group="Core")
    db = add_component(clocked_client, tenant_on_clock, "Database", group="Core", position=1)
    clock.advance(hours=1)
    open_incident(clocked_client, tenant_on_clock, impact="minor", message="Looking into it.",
                  components={api["id"]: "partial_outage"})
    schedule(clocked_client, tenant_on_clock, clock.now, clock.now + timedelta(hours=1),
             [db["id"]], message="Upgrading.")
    schedule(clocked_client, tenant_on_clock, clock.now + timedelta(days=2),
             clock.now + timedelta(days=2, hours=1), [db["id"]], title="Failover drill")
    clock.advance(minutes=30)
    settle(clocked_beacon)
    summary = clocked_client.get(f"/status/{tenant_on_clock.page_slug}.json").json()
    assert summary["status"]["indicator"] == "degraded"
    [core] = summary["components"]
    assert core["group"] == "Core"
    assert [(c["name"], c["status"]) for c in core["components"]] == \
        [("API", "partial_outage"), ("Database", "under_maintenance")]
    bars = core["components"][0]["days"]
    assert len(bars) == 90 and bars[-1]["state"] == "partial"
    assert {b["state"] for b in bars[:-1]} == {"none"}
    api_uptime = uptime(clocked_client, clocked_beacon, tenant_on_clock,
                        f"/api/v1/components/{api['id']}/uptime",
                        clock.now.replace(hour=0, minute=0), clock.now, "day")
    assert bars[-1]["uptime_percent"] == api_uptime["uptime_percent"]
    assert [m["title"] for m in summary["maintenance"]["ongoing"]] == ["Database upgrade"]
    assert summary["maintenance"]["ongoing"][0]["components"] == ["Database"]
    assert [m["title"] for m in summary["maintenance"]["upcoming"]] == ["Failover drill"]
    assert summary["active_incidents"][0]["components"] == \
        [{"id": api["id"], "name": "API", "status": "partial_outage"}]
    html = clocked_client.get(f"/status/{tenant_on_clock.page_slug}").text
    for shown in ("Components", "Core", "Maintenance in progress", "Scheduled maintenance",
                  "Failover drill", "Affects:", "under maintenance", "feed.atom"):
        assert shown in html


def test_feeds_carry_one_entry_per_update_and_parse_as_atom_and_rss(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    db = add_component(clocked_client, tenant_on_clock, "Database")
    incident = open_incident(clocked_client, tenant_on_clock, message="Investigating.")
    clock.advance(minutes=5)
    clocked_client.post(f"/api/v1/incidents/{incident['id']}/updates",
                        json={"message": "Fixed <b>it</b> & deployed."},
                        headers=tenant_on_clock.headers("write"))
    clock.advance(minutes=5)
    schedule(clocked_client, tenant_on_clock, clock.now + timedelta(days=1),
             clock.now + timedelta(days=1, hours=1), [db["id"]], message="Planned upgrade.")
    settle(clocked_beacon)
    for kind, version in (("atom", "atom10"), ("rss", "rss20")):
        response = clocked_client.get(f"/status/{tenant_on_clock.page_slug}/feed.{kind}")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(f"application/{kind}+xml")
        feed = feedparser.parse(response.content)
        assert not feed.bozo, feed.bozo_exception
        assert feed.version == version
        assert [e.summary for e in feed.entries] == \
            ["Planned upgrade.", "Fixed <b>it</b> & deployed.", "Investigating."]
        assert [e.title for e in feed.entries] == \
            ["Database upgrade", "Elevated API latency", "Elevated API latency"]
        assert len({e.id for e in feed.entries}) == 3
        assert feed.entries[1].link.endswith(f"#incident-{incident['id']}")


def test_feeds_answer_304_to_a_matching_etag_or_date_and_change_with_history(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    open_incident(clocked_client, tenant_on_clock, message="Investigating.")
    settle(clocked_beacon)
    path = f"/status/{tenant_on_clock.page_slug}/feed.atom"
    first = clocked_client.get(path)
    tag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    clock.advance(hours=1)  # time passing alone changes nothing
    assert clocked_client.get(path).headers["ETag"] == tag
    assert clocked_client.get(path, headers={"If-None-Match": tag}).status_code == 304
    assert clocked_client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    open_incident(clocked_client, tenant_on_clock, title="Another", message="Again.")
    settle(clocked_beacon)
    changed = clocked_client.get(path, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert clocked_client.get(path, headers={"If-Modified-Since": modified}).status_code == 200
    assert clocked_client.get("/status/nobody-here/feed.rss").status_code == 404
