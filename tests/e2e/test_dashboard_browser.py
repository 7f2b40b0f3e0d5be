"""The dashboard in a real headless Chromium (Debian's, driven by Playwright without downloading a
browser), served by the real app over real HTTP: sign in, read the overview and a funnel, create and
resolve an incident, and stay inside one's own project with one's own role."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from application.projects import person
from interfaces.bootstrap import Beacon
from tests.conftest import ADMIN
from tests.e2e.test_status_page_browser import FLAGS, chromium  # noqa: F401 (a fixture)

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def browser(chromium: Path) -> Iterator[Any]:  # noqa: F811
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(chromium), args=FLAGS[1:])
        try:
            yield launched
        finally:
            launched.close()


def shoot(page: Any, name: str) -> None:
    """Keep the latest screenshot of each page for the README (docs/screenshots)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def project_with_user(beacon: Beacon, email: str, name: str, slug: str) -> dict[str, Any]:
    """A user made as `beacon users create` makes one, owning a project as POST /api/projects
    makes it; answers the project with its keys' tokens."""
    user = beacon.workspaces.create_user(email=email, password=PASSWORD)
    workspace, keys = beacon.workspaces.create_project(name=name, slug=slug, owner=user)
    return {"id": str(workspace.id), "user": user,
            "keys": {kind: token for kind, (_, token) in keys.items()}}


def seed_events(api: httpx.Client, ingest_key: str, names: list[tuple[str, str]]) -> str:
    """Post (name, actor) events an hour ago; answers the write's position."""
    at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    events = [{"event_id": str(uuid.uuid4()), "name": name, "actor_id": actor, "timestamp": at,
               "category": "product", "properties": {"plan": "pro"}} for name, actor in names]
    response = api.post("/v1/events", json=events, headers={"Authorization": f"Bearer {ingest_key}"})
    assert response.status_code == 200, response.text
    return str(response.headers["X-Beacon-Position"])


def sign_in(page: Any, server: str, email: str) -> None:  # noqa: F811
    page.goto(server + "/")
    page.wait_for_url("**/app**")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def signed_in_at(browser: Any, server: str, email: str, path: str) -> Any:
    """A page signed in as `email` (on the overview first), then at `path` of the dashboard."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, server, email)
    page.wait_for_selector("[data-testid=total-events]")
    page.goto(f"{server}{path}")
    return page


def test_a_member_signs_in_reads_the_overview_and_a_funnel(
        beacon: Beacon, server: str, browser: Any) -> None:  # noqa: F811
    with httpx.Client(base_url=server, timeout=10) as api:
        mine = project_with_user(beacon, "ann@example.com", "Shop", "shop")
        other = project_with_user(beacon, "bob@example.com", "Other", "other")
        seed_events(api, other["keys"]["public"], [("signed_up", f"x{n}") for n in range(50)])
        steps = [("signed_up", a) for a in "abcd"] + [("activated", a) for a in "abc"] + [("paid", "a")]
        source, _, position = seed_events(api, mine["keys"]["public"], steps).rpartition(":")
        assert beacon.wait_for(source, int(position), timeout=10)

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, server, "ann@example.com")
    page.wait_for_selector("[data-testid=total-events]")
    assert page.inner_text("[data-testid=total-events]") == "8"  # the other project's 50 never count
    page.wait_for_selector(".plot[data-drawn]")
    page.wait_for_selector("figure.bars")
    assert "signed_up" in page.inner_text("figure.bars")
    shoot(page, "overview")

    page.goto(f"{server}/app/shop/insights?kind=funnel&steps=signed_up,activated,paid")
    page.wait_for_selector("[data-testid=funnel-step]")
    conversions = [c.inner_text().strip() for c in page.query_selector_all("[data-testid=conversion]")]
    assert conversions == ["100.0%", "75.0%", "25.0%"]
    shoot(page, "insights-funnel")

    page.goto(f"{server}/app/shop/live")
    page.wait_for_selector("[data-testid=stream-status]:has-text('live')")
    with httpx.Client(base_url=server, timeout=10) as api:
        seed_events(api, mine["keys"]["public"], [("checkout_started", "zed")])
    page.wait_for_selector("[data-testid=live-events] li:has-text('checkout_started')", timeout=15_000)
    assert "zed" in page.inner_text("[data-testid=live-events]")
    page.get_by_role("button", name="Pause").click()
    page.wait_for_selector("[data-testid=stream-status]:has-text('paused')")
    shoot(page, "live")

    with httpx.Client(base_url=server, timeout=10) as api:
        rule = api.post("/api/v1/alerts", headers={"Authorization": f"Bearer {mine['keys']['secret']}"},
                        json={"name": "Signups stop", "cooldown_seconds": 0,
                              "channels": [{"type": "webhook", "url": "https://93.184.216.34/hook"}],
                              "condition": {"type": "threshold", "event": "signed_up",
                                            "window_seconds": 3600, "op": "<", "value": 1}})
        assert rule.status_code == 201, rule.text
        source, _, position = rule.headers["X-Beacon-Position"].rpartition(":")
        assert beacon.wait_for(source, int(position), timeout=10)
    page.goto(f"{server}/app/shop/alerts")
    page.wait_for_selector("article[aria-label='Signups stop']")
    assert "count of signed_up over 1 hour fewer than 1" in page.inner_text(
        "article[aria-label='Signups stop']")
    shoot(page, "alerts")

    page.goto(f"{server}/app/shop/settings")
    page.get_by_label("Invite by email").fill("new@example.com")
    page.get_by_role("button", name="Invite").click()
    page.wait_for_selector("p.secret")
    assert "/invitations/accept?token=" in page.inner_text("p.secret")
    assert "ann@example.com" in page.inner_text("#members-title + table, table")
    page.get_by_role("button", name="Get a sign-in code").click()
    code = page.inner_text("[data-testid=cli-code] code")
    with httpx.Client(base_url=server, timeout=10) as api:
        exchanged = api.post("/api/cli/validate", json={"token": code})
        assert exchanged.status_code == 200, exchanged.text
    shoot(page, "settings")

    page.goto(f"{server}/app/other/overview")
    assert "Project not found" in page.inner_text("main")

    phone = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(phone, server, "ann@example.com")
    phone.wait_for_selector("[data-testid=total-events]")
    phone.get_by_role("button", name="Menu").click()
    assert phone.get_by_role("link", name="Insights").is_visible()
    shoot(phone, "overview-phone")


def test_an_incident_is_opened_and_resolved_and_shows_in_history_and_on_the_public_page(
        beacon: Beacon, server: str, browser: Any) -> None:  # noqa: F811
    with httpx.Client(base_url=server, timeout=10) as api:
        mine = project_with_user(beacon, "cy@example.com", "Status", "status-co")
        made = api.post(f"/admin/v1/workspaces/{mine['id']}/pages", headers=ADMIN,
                        json={"slug": "status-co-page", "name": "Status Co"})
        assert made.status_code == 201, made.text

    page = signed_in_at(browser, server, "cy@example.com", "/app/status-co/incidents")
    page.get_by_text("Open an incident").click()
    page.get_by_label("Title").fill("Checkout errors")
    page.get_by_label("First update").fill("Investigating failed payments.")
    page.get_by_role("button", name="Open", exact=True).click()
    page.wait_for_selector("#incident-title")
    assert page.inner_text("#incident-title") == "Checkout errors"
    page.get_by_role("button", name="Resolve").click()
    page.wait_for_selector("text=Reopen")
    history = page.inner_text("ol.timeline")
    assert "from investigating to resolved" in history.lower() or "to resolved" in history.lower()
    shoot(page, "incident")

    with httpx.Client(base_url=server, timeout=10) as api:
        made = api.post("/api/v1/monitors", json={"name": "nightly backup", "period_seconds": 3600},
                        headers={"Authorization": f"Bearer {mine['keys']['secret']}"})
        assert made.status_code == 201, made.text
        source, _, position = made.headers["X-Beacon-Position"].rpartition(":")
        assert beacon.wait_for(source, int(position), timeout=10)
    page.goto(f"{server}/app/status-co/monitors")
    page.get_by_role("link", name="nightly backup").click()
    page.wait_for_selector("figure.uptime")
    assert "uptime over the last" in page.inner_text("figure.uptime")
    assert page.get_by_role("button", name="Pause").is_visible()
    shoot(page, "monitor")

    public = browser.new_page()
    for _ in range(50):
        public.goto(f"{server}/status/status-co-page")
        if "Checkout errors" in public.inner_text("#history"):
            break
        public.wait_for_timeout(100)
    assert "Checkout errors" in public.inner_text("#history")


def test_an_admin_makes_and_revokes_a_key_and_the_owner_deletes_the_project(
        beacon: Beacon, server: str, browser: Any) -> None:  # noqa: F811
    keys = project_with_user(beacon, "kim@example.com", "Keys", "keys")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("dialog", lambda dialog: dialog.accept())  # "Revoke the key…?"
    sign_in(page, server, "kim@example.com")
    page.wait_for_selector("[data-testid=total-events]")
    page.goto(f"{server}/app/keys/settings")
    page.wait_for_selector("[data-testid=api-key]")
    assert {"public key", "secret key"} <= {row.inner_text().split("\t")[0].strip()
                                            for row in page.query_selector_all("[data-testid=api-key]")}

    page.get_by_label("Key name").fill("ci deploys")
    page.get_by_label("ingest", exact=True).uncheck()
    page.get_by_label("read", exact=True).check()
    page.get_by_role("button", name="Create key").click()
    secret = page.inner_text("[data-testid=new-key] code")
    assert secret.startswith("sk_live_")
    row = page.locator("[data-testid=api-key]", has_text="ci deploys")
    row.wait_for()
    assert secret not in row.inner_text() and "active" in row.inner_text()
    with httpx.Client(base_url=server, timeout=10) as api:
        bearer = {"Authorization": f"Bearer {secret}"}
        assert api.get("/api/v1/monitors", headers=bearer).status_code == 200
        shoot(page, "settings-keys")
        page.get_by_role("button", name="Revoke ci deploys").click()
        page.locator("[data-testid=api-key]", has_text="ci deploys").filter(
            has_text="revoked").wait_for()
        assert api.get("/api/v1/monitors", headers=bearer).status_code == 401

        delete = page.get_by_role("button", name="Delete project")
        page.get_by_label("to confirm").fill("key")
        assert delete.is_disabled()
        page.get_by_label("to confirm").fill("keys")
        delete.click()
        page.wait_for_selector("text=No project yet")
        refused = api.post("/v1/events", headers={"Authorization": f"Bearer {keys['keys']['public']}"},
                           json=[{"event_id": str(uuid.uuid4()), "name": "x", "actor_id": "a",
                                  "category": "c", "timestamp": datetime.now(UTC).isoformat()}])
        assert refused.status_code == 401


def test_a_viewer_sees_no_write_controls_and_the_api_refuses_their_writes(
        beacon: Beacon, server: str, browser: Any) -> None:  # noqa: F811
    with httpx.Client(base_url=server, timeout=10) as api:
        owner = project_with_user(beacon, "dee@example.com", "Team", "team")
        api.post(f"/admin/v1/workspaces/{owner['id']}/pages", headers=ADMIN,
                 json={"slug": "team-page", "name": "Team"})
    _, token = beacon.workspaces.invite(UUID(owner["id"]), email="vic@example.com", role="viewer",
                                        actor=person(owner["user"]))
    invitee = browser.new_page()
    invitee.goto(f"{server}/invitations/accept?token={token}")
    invitee.get_by_label("Password").fill(PASSWORD)
    invitee.get_by_role("button", name="Join").click()
    invitee.wait_for_selector("[data-testid=total-events]")
    assert "viewer" in invitee.inner_text(".who")

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, server, "vic@example.com")
    page.wait_for_selector("[data-testid=total-events]")
    page.goto(f"{server}/app/team/incidents")
    page.wait_for_selector("#incidents-title")
    assert page.get_by_text("Open an incident").count() == 0
    page.goto(f"{server}/app/team/alerts")
    page.wait_for_selector("#alerts-title")
    page.wait_for_selector("text=No alert rules yet")
    assert page.get_by_text("New alert rule").count() == 0
    page.goto(f"{server}/app/team/settings")
    page.wait_for_selector("#members-title")
    assert page.get_by_text("API keys").count() == 0
    assert page.get_by_text("Delete this project").count() == 0
    status = page.evaluate("""async () => {
        const csrf = document.cookie.split('; ').find(c => c.startsWith('beacon_csrf=')).slice(12);
        const r = await fetch('/api/v1/pages/team-page/incidents', {
          method: 'POST', credentials: 'same-origin',
          headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf, 'X-Beacon-Project': 'team'},
          body: JSON.stringify({title: 'Not allowed'})});
        return r.status; }""")
    assert status == 403
