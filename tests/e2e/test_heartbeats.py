"""Heartbeats (seed 003) and the monitors API, on SQLite and PostgreSQL, with a hand-driven clock."""

from __future__ import annotations

import struct
from typing import Any

from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import FakeClock, Tenant, make_tenant, settle


def assert_transparent_gif(response: Any, status: int = 200) -> None:
    """A valid 1×1 GIF89a whose only pixel is the transparent colour, never cached."""
    assert response.status_code == status
    assert response.headers["content-type"] == "image/gif"
    assert response.headers["cache-control"] == "no-store"
    gif = response.content
    assert len(gif) == 43 and gif[:6] == b"GIF89a" and gif[-1:] == b";"
    assert struct.unpack("<HH", gif[6:10]) == (1, 1)
    assert gif[10] & 0x80 and (gif[10] & 0x07) == 0  # a global colour table of 2 entries
    extension = gif[19:27]  # the graphic control extension
    assert extension[:3] == b"\x21\xf9\x04" and extension[3] & 0x01  # transparency on
    transparent_index = extension[6]
    descriptor = gif[27:37]
    assert descriptor[0] == 0x2C and struct.unpack("<HHHH", descriptor[1:9]) == (0, 0, 1, 1)
    assert gif[37:42] == b"\x02\x02\x44\x01\x00" and transparent_index == 0  # LZW: one pixel, 0


def create_monitor(client: TestClient, tenant: Tenant, **body: Any) -> dict:
    response = client.post("/api/v1/monitors", json={"name": "nightly backup", **body},
                           headers=tenant.headers("write"))
    assert response.status_code == 201, response.text
    return response.json()["data"]


def monitor(client: TestClient, tenant: Tenant, monitor_id: str) -> dict:
    response = client.get(f"/api/v1/monitors/{monitor_id}", headers=tenant.headers("read"))
    assert response.status_code == 200, response.text
    return response.json()["data"]


def beat(client: TestClient, token: str, **kwargs: Any) -> Any:
    response = client.post(f"/api/v1/beet/{token}", **kwargs) if kwargs \
        else client.get(f"/api/v1/beet/{token}")
    assert_transparent_gif(response)
    return response


def check(beacon: Beacon) -> None:
    settle(beacon)
    beacon.jobs.check_monitors()


def checked_after(beacon: Beacon, clock: FakeClock, seconds: int) -> None:
    """Let `seconds` pass on the test's clock, then run the monitor check."""
    clock.advance(seconds=seconds)
    check(beacon)


def test_creating_a_monitor_returns_its_token_and_ping_url_once(clocked_client: TestClient,
                                                                tenant_on_clock: Tenant) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=60)
    assert created["status"] == "new" and created["name"] == "nightly backup"
    assert created["token"].startswith("beet_") and len(created["token"]) >= 5 + 22
    assert created["ping_url"] == f"http://testserver/api/v1/beet/{created['token']}"
    shown = monitor(clocked_client, tenant_on_clock, created["id"])
    assert "token" not in shown and "ping_url" not in shown
    assert shown["period_seconds"] == 60 and shown["recent_beats"] == []


def test_known_unknown_and_rotated_tokens_all_answer_the_gif(clocked_client: TestClient,
                                                             tenant_on_clock: Tenant,
                                                             clock: FakeClock) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=60)
    beat(clocked_client, created["token"])
    for unknown in ("nope", "beet_" + "x" * 30, "beet_" + created["token"][5:17] + "y" * 20):
        beat(clocked_client, unknown)
        beat(clocked_client, unknown, json={"value": 1})
    rotated = clocked_client.post(f"/api/v1/monitors/{created['id']}/rotate",
                                  headers=tenant_on_clock.headers("write"))
    assert rotated.status_code == 200
    new_token = rotated.json()["data"]["token"]
    assert new_token != created["token"] and rotated.json()["data"]["ping_url"].endswith(new_token)
    clock.advance(seconds=30)
    beat(clocked_client, created["token"])  # the old token: a GIF, and nothing recorded
    assert len(monitor(clocked_client, tenant_on_clock, created["id"])["recent_beats"]) == 1
    clock.advance(seconds=30)
    beat(clocked_client, new_token)
    assert len(monitor(clocked_client, tenant_on_clock, created["id"])["recent_beats"]) == 2


def test_a_posted_value_is_stored_and_any_body_still_gets_the_gif(clocked_client: TestClient,
                                                                  tenant_on_clock: Tenant,
                                                                  clock: FakeClock) -> None:
    created = create_monitor(clocked_client, tenant_on_clock)
    beat(clocked_client, created["token"], json={"value": 42})
    for content, kind in ((b'{"value": ', "application/json"), (b"\x00\xff", "image/png"),
                          (b'{"value": "x"}', "application/json"),
                          (b"[" * 100_000, "application/json"),
                          (b"x" * 2_000_000, "application/octet-stream")):
        clock.advance(seconds=1)
        beat(clocked_client, created["token"], content=content, headers={"Content-Type": kind})
    beats = monitor(clocked_client, tenant_on_clock, created["id"])["recent_beats"]
    assert [b["value"] for b in beats] == [None, None, None, None, None, 42]


def test_more_than_sixty_beats_in_ten_seconds_is_429_still_with_the_gif(
        clocked_client: TestClient, tenant_on_clock: Tenant) -> None:
    token = create_monitor(clocked_client, tenant_on_clock)["token"]
    answers = [clocked_client.get(f"/api/v1/beet/{token}") for _ in range(61)]
    for response in answers[:60]:
        assert_transparent_gif(response)
    assert_transparent_gif(answers[60], status=429)
    assert int(answers[60].headers["Retry-After"]) >= 1
    assert_transparent_gif(clocked_client.get("/api/v1/beet/another-token"))


def test_late_then_down_then_up_again_by_the_clock(clocked_client: TestClient,
                                                  clocked_beacon: Beacon,
                                                  tenant_on_clock: Tenant,
                                                  clock: FakeClock) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=60,
                             grace_seconds=30)
    beat(clocked_client, created["token"])
    up = monitor(clocked_client, tenant_on_clock, created["id"])
    assert up["status"] == "up" and up["next_expected_at"] > up["last_beat_at"]
    checked_after(clocked_beacon, clock, 59)
    assert monitor(clocked_client, tenant_on_clock, created["id"])["status"] == "up"
    checked_after(clocked_beacon, clock, 2)
    late = monitor(clocked_client, tenant_on_clock, created["id"])
    assert (late["status"], late["missed_count"]) == ("late", 1)
    checked_after(clocked_beacon, clock, 30)
    down = monitor(clocked_client, tenant_on_clock, created["id"])
    assert down["status"] == "down" and down["incident_id"] is None  # linked to no page
    beat(clocked_client, created["token"])
    assert monitor(clocked_client, tenant_on_clock, created["id"])["status"] == "up"


def test_pausing_stops_the_clock_and_resuming_restarts_it(clocked_client: TestClient,
                                                          clocked_beacon: Beacon,
                                                          tenant_on_clock: Tenant,
                                                          clock: FakeClock) -> None:
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=60)
    url = f"/api/v1/monitors/{created['id']}"
    beat(clocked_client, created["token"])
    paused = clocked_client.post(f"{url}/pause", headers=tenant_on_clock.headers("write"))
    assert paused.json()["data"]["status"] == "paused"
    clock.advance(hours=5)
    check(clocked_beacon)
    assert monitor(clocked_client, tenant_on_clock, created["id"])["status"] == "paused"
    resumed = clocked_client.post(f"{url}/resume", headers=tenant_on_clock.headers("write"))
    assert resumed.json()["data"]["status"] == "up"
    checked_after(clocked_beacon, clock, 61)
    assert monitor(clocked_client, tenant_on_clock, created["id"])["status"] == "late"


def test_without_a_period_the_interval_is_learned_and_early_beats_flagged(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    created = create_monitor(clocked_client, tenant_on_clock)
    for _ in range(4):
        beat(clocked_client, created["token"])
        clock.advance(seconds=300)
    learned = monitor(clocked_client, tenant_on_clock, created["id"])
    assert learned["learned_interval_seconds"] == 300
    assert learned["expected_interval_seconds"] == 300
    clock.advance(seconds=10)  # 310 s after the last beat: late
    check(clocked_beacon)
    assert monitor(clocked_client, tenant_on_clock, created["id"])["status"] == "late"
    beat(clocked_client, created["token"])
    clock.advance(seconds=30)  # far sooner than 300 / 4
    beat(clocked_client, created["token"])
    flagged = monitor(clocked_client, tenant_on_clock, created["id"])
    assert flagged["too_frequent_beats"] == 1 and flagged["recent_beats"][0]["too_frequent"]


def test_a_linked_monitor_going_down_opens_an_incident_and_beats_resolve_it(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    slug = tenant_on_clock.page_slug
    created = create_monitor(clocked_client, tenant_on_clock, period_seconds=60,
                             grace_seconds=0, page_slug=slug)
    beat(clocked_client, created["token"])
    checked_after(clocked_beacon, clock, 61)
    check(clocked_beacon)  # running the job twice opens nothing twice
    down = monitor(clocked_client, tenant_on_clock, created["id"])
    assert down["status"] == "down" and down["incident_id"]
    incidents = incidents_of(clocked_client, clocked_beacon, tenant_on_clock)
    assert len(incidents) == 1
    (incident,) = incidents
    assert (incident["id"], incident["impact"], incident["resolved"]) == \
        (down["incident_id"], "major", False)
    assert "nightly backup" in incident["title"] and "nightly backup" in \
        incident["updates"][0]["message"]
    clock.advance(seconds=120)
    beat(clocked_client, created["token"])
    check(clocked_beacon)
    recovered = monitor(clocked_client, tenant_on_clock, created["id"])
    assert recovered["status"] == "up" and recovered["incident_id"] is None
    (resolved,) = incidents_of(clocked_client, clocked_beacon, tenant_on_clock)
    assert resolved["resolved"] and resolved["state"] == "resolved"
    assert "sending heartbeats again" in resolved["updates"][-1]["message"]


def incidents_of(client: TestClient, beacon: Beacon, tenant: Tenant) -> list[dict]:
    settle(beacon)
    response = client.get(f"/api/v1/pages/{tenant.page_slug}/incidents",
                          headers=tenant.headers("read"))
    return response.json()["data"]


def test_monitors_are_checked_for_scope_page_and_workspace(clocked_client: TestClient,
                                                           tenant_on_clock: Tenant) -> None:
    body = {"name": "x"}
    assert clocked_client.post("/api/v1/monitors", json=body,
                               headers=tenant_on_clock.headers("read")).status_code == 403
    assert clocked_client.post("/api/v1/monitors", json=body).status_code == 401
    for bad in ({"name": "x", "period_seconds": 1}, {"name": "x", "page_slug": "nope"},
                {"name": ""}, {"name": "x", "grace_seconds": "soon"}):
        response = clocked_client.post("/api/v1/monitors", json=bad,
                                       headers=tenant_on_clock.headers("write"))
        assert response.status_code == 422, bad
    created = create_monitor(clocked_client, tenant_on_clock)
    other = make_tenant(clocked_client, name="Other", slug="other")
    url = f"/api/v1/monitors/{created['id']}"
    assert clocked_client.get(url, headers=other.headers("read")).status_code == 404
    assert clocked_client.post(f"{url}/rotate", headers=other.headers("write")).status_code == 404
    assert clocked_client.post(f"{url}/pause", headers=other.headers("write")).status_code == 404
    assert clocked_client.get("/api/v1/monitors/not-a-uuid",
                              headers=tenant_on_clock.headers("read")).status_code == 404
