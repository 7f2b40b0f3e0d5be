"""Health, readiness, metrics and projection status, as an operator sees them."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Tenant


def test_healthz_says_alive(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["rate_limits"] == "memory"


def test_readyz_checks_the_database_and_projection_lag(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert all(value == "ok" for value in body["checks"].values())
    assert {p["name"] for p in body["projections"]} >= {"incidents"}


def test_projections_report_position_head_and_lag(client: TestClient, tenant: Tenant) -> None:
    response = client.post(f"/api/v1/pages/{tenant.page_slug}/incidents", json={"title": "t"},
                           headers=tenant.headers("write"))
    _, position = response.headers["X-Beacon-Position"].split(":")
    client.get(f"/api/v1/pages/{tenant.page_slug}/incidents",
               headers=tenant.headers("read", **{"X-Beacon-Min-Position":
                                                 response.headers["X-Beacon-Position"]}))
    data = client.get("/api/v1/projections", headers=tenant.headers("read")).json()["data"]
    incidents = next(p for p in data if p["name"] == "incidents")
    assert incidents["position"] >= int(position)
    assert incidents["lag"] == incidents["head"] - incidents["position"]
    assert client.get("/api/v1/projections").status_code == 401


def test_metrics_count_requests_by_route_and_status(client: TestClient, tenant: Tenant) -> None:
    client.get(f"/api/v1/pages/{tenant.page_slug}/incidents", headers=tenant.headers("read"))
    client.get("/api/v1/pages/nope/incidents", headers=tenant.headers("read"))
    text = client.get("/metrics").text
    assert 'route="/api/v1/pages/{page_slug}/incidents",status="200"' in text
    assert 'route="/api/v1/pages/{page_slug}/incidents",status="404"' in text
    assert "beacon_http_request_duration_seconds_bucket" in text
    assert 'beacon_projection_lag{projection="incidents"}' in text


def test_one_log_line_per_request_without_secrets(client: TestClient, tenant: Tenant,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="beacon.http"):
        client.get(f"/api/v1/pages/{tenant.page_slug}/incidents", headers=tenant.headers("read"))
    lines = [r.getMessage() for r in caplog.records if r.name == "beacon.http"]
    assert len(lines) == 1
    assert tenant.id in lines[0] and '"status":200' in lines[0]
    assert tenant.keys["read"] not in lines[0] and "bkn_live_" not in lines[0]


def test_a_write_position_makes_the_next_read_consistent(client: TestClient,
                                                        tenant: Tenant) -> None:
    for n in range(3):
        response = client.post(f"/api/v1/pages/{tenant.page_slug}/incidents",
                               json={"title": f"n{n}"}, headers=tenant.headers("write"))
        listing = client.get(f"/api/v1/pages/{tenant.page_slug}/incidents",
                             headers=tenant.headers("read", **{
                                 "X-Beacon-Min-Position": response.headers["X-Beacon-Position"]}))
        assert listing.json()["total"] == n + 1
        assert "X-Beacon-Stale" not in listing.headers
