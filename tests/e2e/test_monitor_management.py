"""Managing monitors through HTTP: schedules, lists, changes with If-Match, history, time travel,
deletion, previews that match live evaluation, and other workspaces kept out."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import FakeClock, Tenant, make_tenant, settle
from tests.e2e.test_heartbeats import beat, check, create_monitor, monitor
from tests.e2e.test_monitor_runs import listed

NIGHTLY_BERLIN = {"cron": "30 2 * * *", "tz": "Europe/Berlin"}


def patch(client: TestClient, tenant: Tenant, monitor_id: str, body: dict,
          **headers: str) -> dict:
    response = client.patch(f"/api/v1/monitors/{monitor_id}", json=body,
                            headers=tenant.headers("write", **headers))
    assert response.status_code == 200, response.text
    return {"etag": response.headers["ETag"], **response.json()["data"]}


def test_a_schedule_and_a_period_together_are_422_and_bad_crons_name_their_field(
        clocked_client: TestClient, tenant_on_clock: Tenant) -> None:
    for body, field in (({"period_seconds": 60, "schedule": NIGHTLY_BERLIN}, "schedule"),
                        ({"schedule": {"cron": "99 * * * *"}}, "schedule.cron"),
                        ({"schedule": {"cron": "* * * * *", "tz": "Nowhere/City"}},
                         "schedule.tz")):
        response = clocked_client.post("/api/v1/monitors", json={"name": "x", **body},
                                       headers=tenant_on_clock.headers("write"))
        assert response.status_code == 422, body
        assert response.json()["error"]["details"][0]["field"] == field


def test_a_cron_monitor_expects_its_beat_at_the_next_local_time(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    clock.now = datetime(2026, 3, 28, 1, 31, tzinfo=UTC)  # 02:31 CET, before the skipped hour
    created = create_monitor(clocked_client, tenant_on_clock, schedule=NIGHTLY_BERLIN,
                             grace_seconds=600)
    beat(clocked_client, created["token"])
    shown = monitor(clocked_client, tenant_on_clock, created["id"])
    assert shown["schedule"] == NIGHTLY_BERLIN
    assert shown["next_expected_at"] == "2026-03-29T01:00:00.000000Z"  # 03:00 CEST
    clock.now = datetime(2026, 3, 29, 1, 11, tzinfo=UTC)
    check(clocked_beacon)
    assert monitor(clocked_client, tenant_on_clock, created["id"])["status"] == "down"


def test_patch_changes_settings_with_if_match_and_records_history(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=60)
    beat(clocked_client, created["token"])  # beats do not move the ETag
    first = clocked_client.get(f"/api/v1/monitors/{created['id']}",
                               headers=tenant_on_clock.headers("read")).headers["ETag"]
    assert first == '"1"'
    clock.advance(minutes=1)
    changed = patch(clocked_client, tenant_on_clock, created["id"],
                    {"schedule": {"cron": "0 * * * *", "tz": "UTC"}, "name": "hourly"},
                    **{"If-Match": first})
    assert changed["period_seconds"] is None and changed["schedule"]["cron"] == "0 * * * *"
    assert changed["etag"] != first and changed["next_expected_at"] == "2026-04-04T13:00:00.000000Z"
    stale = clocked_client.patch(f"/api/v1/monitors/{created['id']}", json={"name": "again"},
                                 headers=tenant_on_clock.headers("write", **{"If-Match": first}))
    assert stale.status_code == 412
    both = clocked_client.patch(f"/api/v1/monitors/{created['id']}",
                                json={"period_seconds": 60, "schedule": NIGHTLY_BERLIN},
                                headers=tenant_on_clock.headers("write"))
    assert both.status_code == 422
    history = clocked_client.get(f"/api/v1/monitors/{created['id']}/history",
                                 headers=tenant_on_clock.headers("read")).json()["data"]
    assert [h["type"] for h in history] == ["Created", "Reconfigured"]
    assert {c["field"]: (c["before"], c["after"]) for c in history[1]["changes"]} == {
        "name": ("nightly backup", "hourly"), "period_seconds": (60, None),
        "schedule": (None, {"cron": "0 * * * *", "tz": "UTC"})}
    assert history[1]["actor"]["key_id"] == tenant_on_clock.key_ids["write"]
    then = clocked_client.get(f"/api/v1/monitors/{created['id']}",
                              params={"as_of": "2026-04-04T12:00:30Z"},
                              headers=tenant_on_clock.headers("read")).json()["data"]
    assert (then["name"], then["period_seconds"], then["status"]) == ("nightly backup", 60, "up")


def test_the_list_filters_by_status_and_pages_with_cursors(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    ids = []
    for n in range(3):
        created = create_monitor(clocked_client, tenant_on_clock, name=f"job {n}",
                                 period_seconds=60)
        ids.append(created["id"])
        if n == 1:
            beat(clocked_client, created["token"])
        clock.advance(seconds=1)
    settle(clocked_beacon)
    url, headers = "/api/v1/monitors", tenant_on_clock.headers("read")
    first = clocked_client.get(url, params={"limit": 2}, headers=headers).json()
    assert [m["id"] for m in first["data"]] == [ids[2], ids[1]] and first["has_more"]
    rest = clocked_client.get(url, params={"limit": 2, "cursor": first["next_cursor"]},
                              headers=headers).json()
    assert [m["id"] for m in rest["data"]] == [ids[0]] and not rest["has_more"]
    up = clocked_client.get(url, params={"status": "up"}, headers=headers).json()["data"]
    assert [m["id"] for m in up] == [ids[1]]
    assert clocked_client.get(url, params={"status": "sideways"},
                              headers=headers).status_code == 422


def test_deleting_hides_the_monitor_stops_its_token_and_closes_its_incident(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=60,
                             grace_seconds=0, page_slug=tenant_on_clock.page_slug)
    beat(clocked_client, created["token"])
    clock.advance(seconds=61)
    check(clocked_beacon)
    assert monitor(clocked_client, tenant_on_clock, created["id"])["incident_id"]
    clock.advance(seconds=30)
    url = f"/api/v1/monitors/{created['id']}"
    assert clocked_client.delete(url, headers=tenant_on_clock.headers("write")).status_code == 204
    assert clocked_client.get(url, headers=tenant_on_clock.headers("read")).status_code == 404
    assert clocked_client.delete(url, headers=tenant_on_clock.headers("write")).status_code == 404
    beat(clocked_client, created["token"])  # still the GIF, recording nothing
    check(clocked_beacon)
    settle(clocked_beacon)
    assert clocked_client.get("/api/v1/monitors", headers=tenant_on_clock.headers("read")
                              ).json()["data"] == []
    incidents = clocked_client.get(f"/api/v1/pages/{tenant_on_clock.page_slug}/incidents",
                                   headers=tenant_on_clock.headers("read")).json()["data"]
    assert incidents[0]["resolved"] and "was deleted" in incidents[0]["updates"][-1]["message"]
    public = clocked_client.get(f"/status/{tenant_on_clock.page_slug}.json").json()
    assert public["monitors"] == []


def test_a_preview_of_the_live_settings_answers_the_flips_live_evaluation_recorded(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    start = clock.now
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=600,
                             grace_seconds=60, max_runtime_seconds=120)
    token = created["token"]
    for step, path in ((0, ""), (300, "/start"), (100, ""), (900, ""), (30, "/fail"),
                       (60, ""), (10, "/start"), (200, ""), (2000, "/log"), (10, "/0")):
        clock.advance(seconds=step)
        beat_url = f"/api/v1/beet/{token}{path}"
        assert clocked_client.get(beat_url).status_code == 200
        check(clocked_beacon)
    clock.advance(seconds=3000)
    check(clocked_beacon)
    lived = listed(clocked_client, clocked_beacon, tenant_on_clock, created["id"], "flips")
    window = {"from": start.isoformat(), "to": clock.now.isoformat()}
    preview = clocked_client.post(f"/api/v1/monitors/{created['id']}/schedule/preview",
                                  json={"period_seconds": 600, "grace_seconds": 60, **window},
                                  headers=tenant_on_clock.headers("read"))
    assert preview.status_code == 200, preview.text
    previewed = preview.json()["data"]["flips"]
    assert previewed == [{k: f[k] for k in previewed[0]} for f in reversed(lived)]
    assert {f["reason"] for f in previewed} >= {"grace_expired", "fail", "run_timeout"}
    other = clocked_client.post(f"/api/v1/monitors/{created['id']}/schedule/preview",
                                json={"schedule": {"cron": "*/5 * * * *", "tz": "UTC"},
                                      "grace_seconds": 0, **window},
                                headers=tenant_on_clock.headers("read")).json()["data"]["flips"]
    assert other != previewed
    assert listed(clocked_client, clocked_beacon, tenant_on_clock, created["id"], "flips") == lived
    bad = clocked_client.post(f"/api/v1/monitors/{created['id']}/schedule/preview",
                              json={"period_seconds": 60, "schedule": NIGHTLY_BERLIN, **window},
                              headers=tenant_on_clock.headers("read"))
    assert bad.status_code == 422


def test_other_workspaces_monitor_ids_are_404_everywhere(
        clocked_client: TestClient, tenant_on_clock: Tenant) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=60)
    other = make_tenant(clocked_client, name="Other", slug="other")
    url = f"/api/v1/monitors/{created['id']}"
    window = {"from": "2026-04-04T00:00:00Z", "to": "2026-04-05T00:00:00Z"}
    for method, path, body in (("GET", "", None), ("PATCH", "", {"name": "mine"}),
                               ("DELETE", "", None), ("GET", "/beats", None),
                               ("GET", "/runs", None), ("GET", "/flips", None),
                               ("GET", "/history", None),
                               ("POST", "/schedule/preview", window)):
        response = clocked_client.request(method, url + path, json=body,
                                          headers=other.headers("write"))
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "monitor_not_found"
    assert monitor(clocked_client, tenant_on_clock, created["id"])["name"] == "nightly backup"
