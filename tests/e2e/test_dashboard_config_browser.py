"""The dashboard shows what beacon.yml owns before anyone tries to change it: a deployed
monitor reads "managed by beacon.yml" where an API-made one has its pause and rotate buttons
(the API refuses those changes with 409 either way: tests/e2e/test_deploys.py)."""

from __future__ import annotations

from typing import Any

import httpx

from interfaces.bootstrap import Beacon
from tests.e2e.test_dashboard_browser import browser, project_with_user, sign_in  # noqa: F401
from tests.e2e.test_status_page_browser import chromium  # noqa: F401 (a fixture)


def settled(beacon: Beacon, response: httpx.Response) -> None:
    assert response.status_code in (200, 201), response.text
    source, _, position = response.headers["X-Beacon-Position"].rpartition(":")
    assert beacon.wait_for(source, int(position), timeout=10)


def test_a_deployed_monitor_shows_it_is_managed_by_beacon_yml_and_offers_no_changes(
        beacon: Beacon, server: str, browser: Any) -> None:  # noqa: F811
    owner = project_with_user(beacon, "ann@example.com", "Ops", "ops")
    _, code = beacon.workspaces.issue_cli_code(owner["user"].id)
    with httpx.Client(base_url=server, timeout=10) as api:
        token = api.post("/api/cli/validate", json={"token": code}).json()["data"]["access_token"]
        deployed = api.post("/api/deploy", json={"config": {"monitors": {
            "nightly backup": {"period_seconds": 86400}}}}, headers={
            "X-API-Key": owner["keys"]["secret"], "Authorization": f"Bearer {token}"})
        assert deployed.status_code == 201, deployed.text
        made = api.post("/api/v1/monitors", json={"name": "hourly sync", "period_seconds": 3600},
                        headers={"Authorization": f"Bearer {owner['keys']['secret']}"})
        settled(beacon, made)

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, server, "ann@example.com")
    page.wait_for_selector("text=Overview")
    page.goto(f"{server}/app/ops/monitors")
    page.get_by_role("link", name="nightly backup").click()
    page.wait_for_selector("text=Managed by")
    assert "Managed by beacon.yml (version 1)" in page.inner_text("p.note")
    assert page.get_by_role("button", name="Pause").count() == 0
    assert page.get_by_role("button", name="Rotate token").count() == 0

    page.get_by_role("link", name="hourly sync").click()
    page.wait_for_selector("#monitor-title:has-text('hourly sync')")
    assert page.get_by_role("button", name="Pause").is_visible()
    assert page.locator("text=Managed by").count() == 0
