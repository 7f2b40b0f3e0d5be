"""The dashboard's live page when the project holds as many open streams as it may: it says so,
and opens by itself once a seat is free (a real headless Chromium, as in test_dashboard_browser)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon
from tests.e2e.test_dashboard_browser import browser, project_with_user, sign_in  # noqa: F401
from tests.e2e.test_enrichment import LONDON, WINDOWS
from tests.e2e.test_status_page_browser import chromium  # noqa: F401 (a fixture)

STATUS = "[data-testid=stream-status]"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"stream_max_per_workspace": 1,
                                       "stream_key_check_seconds": 0.2})


def test_a_second_live_page_waits_for_the_projects_one_stream_then_opens(
        beacon: Beacon, server: str, browser: Any) -> None:  # noqa: F811
    project_with_user(beacon, "ann@example.com", "Shop", "shop")
    tabs = browser.new_context()  # one signed-in member, two tabs
    first = tabs.new_page()
    sign_in(first, server, "ann@example.com")
    first.wait_for_selector("[data-testid=total-events]")
    first.goto(f"{server}/app/shop/live")
    first.wait_for_selector(f"{STATUS}:has-text('live')")

    second = tabs.new_page()
    second.goto(f"{server}/app/shop/live")
    second.wait_for_selector(f"{STATUS}:has-text('too many open streams')")
    first.get_by_role("button", name="Pause").click()  # closes the first tab's stream
    first.wait_for_selector(f"{STATUS}:has-text('paused')")
    second.wait_for_selector(f"{STATUS}:has-text('live')", timeout=15_000)


def test_the_live_page_shows_where_and_on_what_an_event_was_sent(
        beacon: Beacon, server: str, browser: Any) -> None:  # noqa: F811
    mine = project_with_user(beacon, "ann@example.com", "Shop", "shop")
    page = browser.new_page()
    sign_in(page, server, "ann@example.com")
    page.wait_for_selector("[data-testid=total-events]")
    page.goto(f"{server}/app/shop/live")
    page.wait_for_selector(f"{STATUS}:has-text('live')")
    sent = httpx.post(f"{server}/api/v1/events/batch", headers={  # seed 002: actor optional
        "Authorization": f"Bearer {mine['keys']['public']}"}, json=[{
            "event_id": str(uuid.uuid4()), "category": "web", "name": "signed_up",
            "timestamp": datetime.now(UTC).isoformat(),  # no actor: a cookieless visitor
            "context": {"ip": LONDON, "user_agent": WINDOWS}}])
    assert sent.status_code == 202, sent.text
    row = page.locator("[data-testid=live-events] li", has_text="signed_up")
    row.wait_for(timeout=15_000)
    assert row.get_by_test_id("enriched").inner_text() == "GB — Chrome · Windows · desktop"
    assert "visitor_" in row.inner_text()
