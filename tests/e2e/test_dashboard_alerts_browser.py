"""Alert rules in the dashboard, in a real headless Chromium over real HTTP: a member tries a rule
on the last hour of stored events (the preview), sees a bad value refused with the API's words,
creates the rule and is shown its webhook's signing secret once, changes it, sends its channel a
test and sees it among the webhooks sent, mutes and unmutes it, and deletes it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from interfaces.bootstrap import Beacon
from tests.e2e.test_dashboard_browser import (  # noqa: F401 (browser: a fixture)
    browser,
    project_with_user,
    shoot,
    signed_in_at,
)
from tests.e2e.test_status_page_browser import chromium  # noqa: F401 (a fixture)
from tests.polling import eventually

RULE = "article[aria-label='Checkout failures']"


def new_rule(page: Any) -> Any:
    """The Alerts page's form for a new rule, opened."""
    page.get_by_text("New alert rule").click()
    return page.get_by_role("form", name="New alert rule")


def test_a_member_previews_creates_changes_tests_mutes_and_deletes_an_alert_rule(
        beacon: Beacon, server: str, browser: Any) -> None:  # noqa: F811
    mine = project_with_user(beacon, "ann@example.com", "Shop", "shop")
    at = (datetime.now(UTC) - timedelta(seconds=10)).isoformat()
    with httpx.Client(base_url=server, timeout=10) as api:
        sent = api.post("/v1/events", headers={"Authorization": f"Bearer {mine['keys']['public']}"},
                        json=[{"event_id": str(uuid.uuid4()), "name": "checkout_failed",
                               "actor_id": f"u{n}", "timestamp": at, "category": "product",
                               "properties": {"plan": "pro"}} for n in range(5)])
        assert sent.status_code == 200, sent.text
    source, _, position = sent.headers["X-Beacon-Position"].rpartition(":")
    assert beacon.wait_for(source, int(position), timeout=10)

    page = signed_in_at(browser, server, "ann@example.com", "/app/shop/alerts")
    form = new_rule(page)
    form.get_by_label("Name", exact=True).fill("Checkout failures")
    form.get_by_label("Event", exact=True).fill("checkout_failed")
    form.get_by_label("Value", exact=True).fill("-1")
    form.get_by_placeholder("plan=pro").fill("plan=pro")
    form.get_by_label("Webhook URL", exact=True).fill("https://93.184.216.34/hook")
    form.get_by_placeholder("Checkout is failing: see the payments runbook").fill(
        "Payments failing: check the provider first")
    form.locator("#rule-preview-range").select_option("1")
    form.get_by_role("button", name="Preview").click()
    assert "condition.value" in form.get_by_role("alert").inner_text()  # the API's own words
    form.get_by_label("Value", exact=True).fill("2")
    form.get_by_role("button", name="Preview").click()
    preview = page.wait_for_selector("[data-testid=alert-preview]")
    assert "Would have fired 1 time over the last hour" in preview.inner_text()
    assert "firing at 5" in preview.inner_text()
    assert form.get_by_role("alert").count() == 0
    shoot(page, "alert-preview")

    form.get_by_role("button", name="Create rule").click()
    secret = page.wait_for_selector("[data-testid=channel-secret]")
    shown = secret.inner_text()
    assert "https://93.184.216.34/hook" in shown
    assert secret.query_selector_all("code")[-1].inner_text().startswith("whsec_")
    def rules() -> list[dict[str, Any]]:
        return list(httpx.get(f"{server}/api/v1/alerts", headers={
            "Authorization": f"Bearer {mine['keys']['secret']}"}).json()["data"])
    assert eventually(lambda: [r["name"] for r in rules()] == ["Checkout failures"])
    assert "secret" not in rules()[0]["channels"][0]  # shown once, in the answer to the create
    page.get_by_role("button", name="Done").click()
    rule = page.wait_for_selector(RULE)
    assert "count of checkout_failed where plan=pro over 5 minutes more than 2" in rule.inner_text()
    assert "Payments failing: check the provider first" in rule.inner_text()
    assert rules()[0]["description"] == "Payments failing: check the provider first"

    page.locator(RULE).get_by_role("button", name="Change").click()
    change = page.get_by_role("form", name="Change Checkout failures")
    assert change.get_by_label("Event", exact=True).input_value() == "checkout_failed"
    change.get_by_label("Value", exact=True).fill("10")
    change.get_by_placeholder("Checkout is failing: see the payments runbook").fill("")
    change.get_by_role("button", name="Save changes").click()
    page.wait_for_selector(f"{RULE}:has-text('more than 10')")
    assert eventually(lambda: rules()[0]["description"] is None)  # emptied: cleared
    assert page.locator("[data-testid=channel-secret]").count() == 0  # same channel, same secret

    page.locator(RULE).get_by_role("button", name="Send a test").click()
    page.locator(RULE).get_by_text("Webhooks sent").click()
    sent = page.locator(RULE).get_by_role("list", name="Webhooks to https://93.184.216.34/hook")
    sent.get_by_text("alert.test").wait_for()  # in the outbox: no worker sends it in this test
    assert "pending" in sent.inner_text()

    page.locator(RULE).get_by_role("button", name="Mute 1 hour").click()
    page.wait_for_selector(f"{RULE}:has-text('muted until')")
    page.locator(RULE).get_by_role("button", name="Unmute").click()
    page.wait_for_selector(f"{RULE} >> text=Mute 1 hour")
    assert "muted until" not in page.inner_text(RULE)

    page.locator(RULE).get_by_role("button", name="Delete…").click()
    page.locator(RULE).get_by_role("button", name="Delete Checkout failures for good").click()
    page.wait_for_selector(RULE, state="detached")
    assert eventually(lambda: rules() == [])


def test_the_form_builds_exception_group_and_monitor_conditions(
        beacon: Beacon, server: str, browser: Any) -> None:  # noqa: F811
    mine = project_with_user(beacon, "ann@example.com", "Shop", "shop")
    with httpx.Client(base_url=server, timeout=10) as api:
        made = api.post("/api/v1/monitors", headers={"Authorization": f"Bearer {mine['keys']['secret']}"},
                        json={"name": "nightly backup", "period_seconds": 3600})
        assert made.status_code == 201, made.text
    page = signed_in_at(browser, server, "ann@example.com", "/app/shop/alerts")
    form = new_rule(page)
    form.get_by_label("Name", exact=True).fill("Crash spikes")
    form.locator("#rule-kind").select_option("exception_group")
    form.locator("#rule-trigger").select_option("over")
    form.get_by_label("Reports", exact=True).fill("50")
    form.get_by_label("Webhook URL", exact=True).fill("https://93.184.216.34/hook")
    form.get_by_role("button", name="Preview").click()
    assert "Would not have fired" in page.wait_for_selector("[data-testid=alert-preview]").inner_text()
    form.get_by_role("button", name="Create rule").click()
    page.get_by_role("button", name="Done").click()
    assert "exception group: over 50 reports in 5 minutes" in page.wait_for_selector(
        "article[aria-label='Crash spikes']").inner_text()

    form = new_rule(page)
    form.get_by_label("Name", exact=True).fill("Backup down")
    form.locator("#rule-kind").select_option("monitor")
    assert form.locator("#rule-monitor").input_value() == made.json()["data"]["id"]
    form.get_by_label("Webhook URL", exact=True).fill("https://93.184.216.34/hook")
    form.get_by_role("button", name="Create rule").click()
    page.get_by_role("button", name="Done").click()
    assert "monitor down" in page.wait_for_selector("article[aria-label='Backup down']").inner_text()


def test_a_firing_rule_comes_first_and_shows_which_exception_group_made_it(
        beacon: Beacon, server: str, browser: Any) -> None:  # noqa: F811
    mine = project_with_user(beacon, "ann@example.com", "Shop", "shop")
    secret = {"Authorization": f"Bearer {mine['keys']['secret']}"}
    with httpx.Client(base_url=server, timeout=10, headers=secret) as api:
        quiet = api.post("/api/v1/alerts", json={  # made first, listed after the firing one
            "name": "Crash storm", "cooldown_seconds": 0,
            "condition": {"type": "exception_group", "trigger": "over", "value": 100},
            "channels": [{"type": "webhook", "url": "https://93.184.216.34/hook"}]})
        assert quiet.status_code == 201, quiet.text
        rule = api.post("/api/v1/alerts", json={
            "name": "New crashes", "cooldown_seconds": 0,
            "condition": {"type": "exception_group", "trigger": "new", "window_seconds": 300},
            "channels": [{"type": "webhook", "url": "https://93.184.216.34/hook"}]})
        assert rule.status_code == 201, rule.text
        reported = api.post("/v1/events/exceptions", headers={
            "Authorization": f"Bearer {mine['keys']['public']}"}, json={
            "exception_id": str(uuid.uuid4()), "exception_type": "KeyError", "severity": "fatal",
            "occurred_at": datetime.now(UTC).isoformat(), "message": "'cart'", "actor_id": "u1",
            "source_app": "Shop", "source_version": "1.0.0",
            "stack_trace": 'File "shop/cart.py", line 7, in total'})
        assert reported.status_code in (200, 201, 202), reported.text

        def fired() -> bool:
            beacon.jobs.evaluate_alerts()  # what the worker does within seconds
            history = api.get(f"/api/v1/alerts/{rule.json()['data']['id']}/history").json()
            return history["data"][-1]["state"] == "firing"
        assert eventually(fired, timeout=20, interval=0.5)

    # The overview says what is firing, and leads to it.
    page = signed_in_at(browser, server, "ann@example.com", "/app/shop/overview")
    firing = page.locator("[data-testid=firing-alerts]")
    firing.wait_for()
    assert "1 alert rule firing: New crashes" in firing.inner_text()
    shoot(page, "overview-firing")
    firing.get_by_role("link", name="New crashes").click()
    page.wait_for_url(f"**/app/shop/alerts?alert={rule.json()['data']['id']}")
    assert page.locator("article[aria-label='New crashes']").get_attribute("aria-current") == "true"
    page.get_by_text("1 of 2 rules firing").wait_for()
    assert page.locator("article").first.get_attribute("aria-label") == "New crashes"
    page.get_by_text("The last day's firings and resolutions").click()
    activity = page.get_by_role("list", name="Alert activity")
    activity.get_by_text("firing").wait_for()
    assert "New crashes firing at 1" in activity.inner_text()
    assert activity.get_by_role("link", name="New crashes").get_attribute("href") == \
        f"/app/shop/alerts?alert={rule.json()['data']['id']}"
    card = page.locator("article[aria-label='New crashes']")
    card.get_by_text("(1 report)").wait_for()  # its history open: the overview's link named it
    card.get_by_role("link", name="KeyError: 'cart'").click()  # to the group, opened
    page.wait_for_selector("#exceptions-title")
    assert 'shop/cart.py' in page.locator("tr.detail pre").inner_text()


def test_changing_a_rule_keeps_what_the_form_does_not_show(
        beacon: Beacon, server: str, browser: Any) -> None:  # noqa: F811
    mine = project_with_user(beacon, "ann@example.com", "Shop", "shop")
    hooks = [{"type": "webhook", "url": f"https://93.184.216.34/{n}"} for n in ("a", "b")]
    made = {
        "Odd checkouts": ({"type": "threshold", "event": "checkout", "metric": "count",
                           "window_seconds": 120, "op": ">", "value": 5, "filters": [
                               {"key": "plan", "op": "neq", "value": "free"},
                               {"key": "path", "op": "contains", "value": "a=b"},
                               {"key": "$country", "op": "is_not_set", "value": None}]},
                          hooks[:1]),
        "Back again": ({"type": "exception_group", "trigger": "regressed",
                        "window_seconds": 300, "quiet_seconds": 600}, hooks)}
    with httpx.Client(base_url=server, timeout=10,
                      headers={"Authorization": f"Bearer {mine['keys']['secret']}"}) as api:
        before = {}
        for name, (condition, channels) in made.items():
            answer = api.post("/api/v1/alerts", json={"name": name, "condition": condition,
                                                      "channels": channels})
            assert answer.status_code == 201, answer.text
            before[name] = answer.json()["data"]

        page = signed_in_at(browser, server, "ann@example.com", "/app/shop/alerts")
        for name in made:
            rule = page.locator(f"article[aria-label='{name}']")
            rule.get_by_role("button", name="Change").click()
            form = page.get_by_role("form", name=f"Change {name}")
            form.get_by_label("Name", exact=True).fill(f"{name} (renamed)")
            form.get_by_role("button", name="Save changes").click()
            page.wait_for_selector(f"article[aria-label='{name} (renamed)']")

        for name, rule in before.items():
            after = api.get(f"/api/v1/alerts/{rule['id']}").json()["data"]
            assert after["name"] == f"{name} (renamed)"
            assert after["condition"] == rule["condition"]  # filters, window, quiet_seconds
            assert [c["id"] for c in after["channels"]] == [c["id"] for c in rule["channels"]]


def test_a_member_adds_moves_and_removes_a_rules_webhooks_keeping_the_others_secrets(
        beacon: Beacon, server: str, browser: Any) -> None:  # noqa: F811
    mine = project_with_user(beacon, "ann@example.com", "Shop", "shop")
    hooks = [{"type": "webhook", "url": f"https://93.184.216.34/{n}"} for n in ("a", "b")]
    with httpx.Client(base_url=server, timeout=10,
                      headers={"Authorization": f"Bearer {mine['keys']['secret']}"}) as api:
        made = api.post("/api/v1/alerts", json={
            "name": "Checkout failures", "channels": hooks,
            "condition": {"type": "threshold", "event": "checkout_failed", "metric": "count",
                          "window_seconds": 300, "op": ">", "value": 2}})
        assert made.status_code == 201, made.text
        a, b = made.json()["data"]["channels"]

        page = signed_in_at(browser, server, "ann@example.com", "/app/shop/alerts")
        page.locator(RULE).get_by_role("button", name="Change").click()
        form = page.get_by_role("form", name="Change Checkout failures")
        assert form.get_by_label("Webhook URL 1", exact=True).input_value() == a["url"]
        assert form.get_by_label("Webhook URL 2", exact=True).input_value() == b["url"]
        form.get_by_label("Webhook URL 1", exact=True).fill("https://93.184.216.34/a-moved")
        form.get_by_role("button", name="Remove webhook 2").click()
        form.get_by_role("button", name="Add a webhook").click()
        form.get_by_label("Webhook URL 2", exact=True).fill("https://93.184.216.34/c")
        assert "its secret is shown once saved" in form.inner_text()
        shoot(page, "alert-webhooks")
        form.get_by_role("button", name="Save changes").click()
        secret = page.wait_for_selector("[data-testid=channel-secret]")
        shown = secret.inner_text()
        assert "https://93.184.216.34/c" in shown and "a-moved" not in shown  # only the new one's
        assert secret.query_selector_all("code")[-1].inner_text().startswith("whsec_")
        page.get_by_role("button", name="Done").click()
        page.wait_for_selector(f"{RULE}:has-text('93.184.216.34/c')")

        after = api.get(f"/api/v1/alerts/{made.json()['data']['id']}").json()["data"]["channels"]
        assert [c["url"] for c in after] == ["https://93.184.216.34/a-moved", "https://93.184.216.34/c"]
        assert after[0]["id"] == a["id"]  # moved, kept: same id, same secret, same deliveries
        assert after[1]["id"] not in (a["id"], b["id"])


def test_a_webhooks_link_opens_the_alerts_page_on_its_rule_with_its_history(
        beacon: Beacon, server: str, browser: Any) -> None:  # noqa: F811
    mine = project_with_user(beacon, "ann@example.com", "Shop", "shop")
    with httpx.Client(base_url=server, timeout=10,
                      headers={"Authorization": f"Bearer {mine['keys']['secret']}"}) as api:
        made = [api.post("/api/v1/alerts", json={
            "name": name, "channels": [{"type": "webhook", "url": "https://93.184.216.34/a"}],
            "condition": {"type": "threshold", "event": "checkout_failed", "metric": "count",
                          "window_seconds": 300, "op": ">", "value": 2}}).json()["data"]
            for name in ("First rule", "Linked rule")]
    page = signed_in_at(browser, server, "ann@example.com", f"/app/shop/alerts?alert={made[1]['id']}")
    linked = page.locator("article[aria-label='Linked rule']")
    linked.get_by_text("History").wait_for()
    assert linked.get_attribute("aria-current") == "true"
    assert linked.locator("details:has(summary:text('History'))").get_attribute("open") is not None
    other = page.locator("article[aria-label='First rule']")
    assert other.get_attribute("aria-current") is None
    assert other.locator("details:has(summary:text('History'))").get_attribute("open") is None


def test_a_project_with_more_rules_than_a_page_sees_them_all_and_each_ones_history_on_opening(
        beacon: Beacon, server: str, browser: Any) -> None:  # noqa: F811
    mine = project_with_user(beacon, "ann@example.com", "Shop", "shop")
    for n in range(101):  # the GraphQL page holds 100 (made here: the API's rate limit)
        beacon.alerts.create_alert(
            uuid.UUID(mine["id"]), name=f"Rule {n:03}", cooldown_seconds=300,
            channels=[{"type": "webhook", "url": "https://93.184.216.34/a"}],
            condition={"type": "threshold", "event": f"e{n}", "metric": "count",
                       "window_seconds": 300, "op": ">", "value": 2},
            actor={"key_id": None, "name": "test"})
    page = signed_in_at(browser, server, "ann@example.com", "/app/shop/alerts")
    page.get_by_text("101 rules, none firing").wait_for()
    assert page.locator("article").count() == 101
    last = page.locator("article[aria-label='Rule 100']")  # on the second page
    last.get_by_text("History").click()
    last.get_by_text("created").wait_for()  # read when opened
    assert "ok" in last.locator("ol.timeline").inner_text()


def test_a_rules_history_shows_the_latest_changes_first_and_reads_earlier_ones_on_asking(
        beacon: Beacon, server: str, browser: Any) -> None:  # noqa: F811
    mine = project_with_user(beacon, "ann@example.com", "Shop", "shop")
    rule = beacon.alerts.create_alert(
        uuid.UUID(mine["id"]), name="Flapping", cooldown_seconds=300,
        channels=[{"type": "webhook", "url": "https://93.184.216.34/a"}],
        condition={"type": "threshold", "event": "e", "metric": "count",
                   "window_seconds": 300, "op": ">", "value": 2},
        actor={"key_id": None, "name": "test"})
    beacon.alerts.observe(rule.id, [(rule.created_on + timedelta(milliseconds=n + 1),
                                     100.0 + n if n % 2 == 0 else 0.0, lambda: None)
                                    for n in range(60)])
    page = signed_in_at(browser, server, "ann@example.com", f"/app/shop/alerts?alert={rule.id}")
    timeline = page.get_by_role("list", name="History of Flapping")
    timeline.locator("li").first.wait_for()
    entries = timeline.locator("li")
    assert entries.count() == 50  # the latest 50 of 61, newest first
    assert "resolved" in entries.first.inner_text()  # the 60th observation: 0.0
    assert "firing at 158" in entries.nth(1).inner_text()
    assert "created" not in timeline.inner_text()
    page.get_by_role("button", name="Earlier changes").click()
    timeline.get_by_text("(created)").wait_for()
    assert entries.count() == 61
    assert "firing at 100" in entries.nth(59).inner_text()
    assert page.get_by_role("button", name="Earlier changes").count() == 0  # nothing earlier
    history = page.locator("article[aria-label='Flapping'] summary", has_text="History")
    history.click()  # closed; the rule fires again meanwhile; opened: the latest, read anew
    beacon.alerts.observe(rule.id, [(rule.created_on + timedelta(milliseconds=61), 500.0,
                                     lambda: None)])
    history.click()
    timeline.get_by_text("firing at 500").wait_for()
    assert entries.count() == 50  # the latest page alone: what was read before it is gone
    assert "firing at 500" in entries.first.inner_text()
    assert page.get_by_role("button", name="Earlier changes").count() == 1
