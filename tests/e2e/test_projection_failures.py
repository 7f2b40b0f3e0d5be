"""A projection whose pages fail is retried with growing pauses and is on record while it fails:
since when and how many tries in `GET /api/v1/projections`, `/readyz` and the metrics; the error
itself for the operator, in `GET /admin/v1/projections` and `beacon projections status` (which
then exits 1); GraphQL's `readModels` and a note on every dashboard page for its users. The record
clears once a page goes in again, and the other projections never stop. On both backends, with
the projector's own threads."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from domain.actor import ADMIN as OPERATOR
from infrastructure.projection_runner import Status
from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon
from interfaces.cli import app as cli
from tests.conftest import ADMIN, Tenant
from tests.e2e.test_dashboard_browser import browser, project_with_user, signed_in_at  # noqa: F401
from tests.e2e.test_status_page_browser import chromium  # noqa: F401 (a fixture)
from tests.polling import eventually


def listed(client: TestClient, path: str, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return {p["name"]: p for p in response.json()["data"]}


def failures_metric(client: TestClient, name: str) -> float:
    line = next(line for line in client.get("/metrics").text.splitlines()
                if line.startswith(f'beacon_projection_failures{{projection="{name}"}}'))
    return float(line.rsplit(" ", 1)[1])


def read_models(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    """GraphQL's `readModels`, what the dashboard warns with, by name."""
    response = client.post("/graphql", headers=headers, json={
        "query": "{ readModels { name lag failingSince failures } }"})
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    return {m["name"]: m for m in response.json()["data"]["readModels"]}


def status_command(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`beacon projections status`, as an operator runs it beside the running Beacon."""
    monkeypatch.setenv("BEACON_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BEACON_ADMIN_TOKEN", str(settings.admin_token))
    if settings.uses_postgres:
        monkeypatch.setenv("BEACON_DATABASE_URL", str(settings.database_url))
        monkeypatch.setenv("BEACON_DB_SCHEMA", settings.db_schema)
    return CliRunner().invoke(cli, ["projections", "status"], terminal_width=200)


def test_a_failing_projection_is_on_record_until_a_page_goes_in_again(
        client: TestClient, tenant: Tenant, beacon: Beacon, settings: Settings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    runner = beacon.runner("incidents")
    healthy = runner.projection.ops

    def poisoned(event: Any) -> Any:
        if getattr(event, "title", None) == "Poison":
            raise RuntimeError("poisoned page")
        return healthy(event)

    monkeypatch.setattr(runner.projection, "ops", poisoned)
    write, read = tenant.headers("write"), tenant.headers("read")
    made = client.post(f"/api/v1/pages/{tenant.page_slug}/incidents", headers=write,
                       json={"title": "Poison", "impact": "minor"})
    assert made.status_code == 201, made.text
    tracked = client.post("/v1/events", headers=tenant.headers("ingest"), json=[{
        "event_id": str(uuid.uuid4()), "category": "shop", "name": "checkout",
        "timestamp": datetime.now(UTC).isoformat(), "actor_id": "ann"}])
    assert tracked.status_code == 200, tracked.text

    assert eventually(lambda: listed(client, "/api/v1/projections", read)["incidents"]["failures"])
    public = listed(client, "/api/v1/projections", read)
    incidents = public["incidents"]
    assert incidents["failing_since"] is not None and incidents["lag"] > 0
    assert "error" not in incidents  # a read key sees that it fails, not what it read
    assert eventually(lambda: listed(client, "/api/v1/projections", read)["events"]["lag"] == 0)
    assert listed(client, "/api/v1/projections", read)["events"]["failing_since"] is None

    assert client.get("/admin/v1/projections", headers=read).status_code == 401
    operator = listed(client, "/admin/v1/projections", ADMIN)
    assert operator["incidents"]["error"] == {"message": "RuntimeError: poisoned page",
                                              "position": incidents["position"]}
    assert operator["events"]["error"] is None and operator["events"]["failures"] == 0
    assert failures_metric(client, "incidents") >= 1
    assert failures_metric(client, "events") == 0
    ready = client.get("/readyz").json()
    assert {p["name"]: p["failing"] for p in ready["projections"]}["incidents"] is True
    assert read_models(client, read)["incidents"]["failingSince"] is not None

    shown = status_command(settings, monkeypatch)
    assert shown.exit_code == 1, shown.output
    assert (f"incidents: the page after position {incidents['position']} fails: "
            "RuntimeError: poisoned page") in shown.output

    monkeypatch.setattr(runner.projection, "ops", healthy)  # the fix is deployed
    runner.wake()
    assert eventually(lambda: listed(client, "/api/v1/projections", read)["incidents"]["failures"]
                      == 0, timeout=30)
    assert listed(client, "/api/v1/projections", read)["incidents"]["failing_since"] is None
    assert listed(client, "/admin/v1/projections", ADMIN)["incidents"]["error"] is None
    assert failures_metric(client, "incidents") == 0
    assert read_models(client, read)["incidents"] == {
        "name": "incidents", "lag": 0, "failingSince": None, "failures": 0}
    titles = client.get(f"/api/v1/pages/{tenant.page_slug}/incidents", headers=read).json()["data"]
    assert [i["title"] for i in titles] == ["Poison"]
    assert status_command(settings, monkeypatch).exit_code == 0


def test_the_dashboard_says_what_it_shows_may_be_out_of_date_while_a_read_model_fails(
        beacon: Beacon, server: str, browser: Any,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    runner = beacon.runner("incidents")
    healthy = runner.projection.ops
    monkeypatch.setattr(runner.projection, "ops", lambda event: 1 / 0)
    shop = project_with_user(beacon, "ann@example.com", "Shop", "shop")
    beacon.statuspages.create_page(UUID(shop["id"]), slug="shop-status", name="Shop", actor=OPERATOR)
    beacon.statuspages.open_incident(UUID(shop["id"]), "shop-status", title="Checkout down",
                                     impact="major", state="investigating", message=None,
                                     actor=OPERATOR)
    assert eventually(lambda: runner.status().failure is not None)

    page = signed_in_at(browser, server, "ann@example.com", "/app/shop/incidents")
    note = page.wait_for_selector("[data-testid=behind]")
    assert re.search(r"has not been able to update incidents since \d", note.inner_text())
    assert "beacon projections status" in note.inner_text()

    monkeypatch.setattr(runner.projection, "ops", healthy)
    runner.wake()
    assert eventually(lambda: runner.status().failure is None, timeout=30)
    page.reload()
    page.wait_for_selector("h1")
    assert page.query_selector("[data-testid=behind]") is None

    events = beacon.runner("events")  # far behind its log, as under a burst the projector lags
    monkeypatch.setattr(events, "status", lambda: Status("events", 100, 12_445))
    page.reload()
    note = page.wait_for_selector("[data-testid=behind]")
    assert "Beacon is catching up: events is up to 12,345 entries behind its log" in note.inner_text()
