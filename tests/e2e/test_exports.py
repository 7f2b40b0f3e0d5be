"""Exports (seed 002's 302 / 409 / 410), on SQLite and PostgreSQL, with a hand-driven clock."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import FakeClock, Tenant, make_tenant, settle

RANGE = {"from": "2026-04-01T00:00:00Z", "to": "2026-04-05T00:00:00Z"}


def request_export(client: TestClient, tenant: Tenant, scope: str = "read", **body: Any) -> dict:
    response = client.post("/api/v1/exports", json={**RANGE, "format": "ndjson",
                                                    "kind": "incidents", **body},
                           headers=tenant.headers(scope))
    assert response.status_code == 202, response.text
    return response.json()["data"]


def finish(beacon: Beacon, export_id: str) -> None:
    settle(beacon)
    assert beacon.jobs.run_export(export_id) == "completed"


def test_an_export_is_409_while_pending_then_302_to_its_file_then_410_once_expired(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    write = tenant_on_clock.headers("write")
    clocked_client.post(f"/api/v1/pages/{tenant_on_clock.page_slug}/incidents",
                        json={"title": "Database failover", "impact": "major",
                              "message": "Failing over"}, headers=write)
    export = request_export(clocked_client, tenant_on_clock, scope="write")
    assert export["status"] == "pending" and export["kind"] == "incidents"
    url = f"/api/v1/exports/{export['id']}"
    read = tenant_on_clock.headers("read")
    pending = clocked_client.get(f"{url}/download", headers=read, follow_redirects=False)
    assert pending.status_code == 409 and pending.json()["error"]["code"] == "export_not_ready"

    finish(clocked_beacon, export["id"])
    status = clocked_client.get(url, headers=read).json()["data"]
    assert status["status"] == "completed" and status["rows"] == 1
    redirect = clocked_client.get(f"{url}/download", headers=read, follow_redirects=False)
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith(f"{url}/file?") and "signature=" in location
    download = clocked_client.get(location)  # no key: the signature is the credential
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/x-ndjson")
    (row,) = [json.loads(line) for line in download.text.splitlines()]
    assert row["title"] == "Database failover" and row["updates"][0]["message"] == "Failing over"

    clock.advance(minutes=16)
    assert clocked_client.get(location).status_code == 410  # the link itself expired
    assert clocked_client.get(f"{url}/download", headers=read,
                              follow_redirects=False).status_code == 302
    clock.advance(hours=24)
    assert clocked_client.get(url, headers=read).json()["data"]["status"] == "expired"
    gone = clocked_client.get(f"{url}/download", headers=read, follow_redirects=False)
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "export_expired"
    assert clocked_beacon.jobs.purge_exports() == 1
    assert list(clocked_beacon.export_files.files()) == []


def test_a_tampered_link_is_refused(clocked_client: TestClient, clocked_beacon: Beacon,
                                    tenant_on_clock: Tenant) -> None:
    export = request_export(clocked_client, tenant_on_clock)
    finish(clocked_beacon, export["id"])
    location = clocked_client.get(f"/api/v1/exports/{export['id']}/download",
                                  headers=tenant_on_clock.headers("read"),
                                  follow_redirects=False).headers["location"]
    query = parse_qs(urlsplit(location).query)
    later = int(query["expires"][0]) + 86_400
    forged = f"/api/v1/exports/{export['id']}/file?expires={later}" \
             f"&signature={query['signature'][0]}"
    assert clocked_client.get(forged).status_code == 403
    other = request_export(clocked_client, tenant_on_clock)
    swapped = location.replace(export["id"], other["id"])
    assert clocked_client.get(swapped).status_code == 403


def test_incidents_export_as_csv_only_the_range_and_the_workspace(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    write = tenant_on_clock.headers("write")
    for title in ("first", "second"):
        clocked_client.post(f"/api/v1/pages/{tenant_on_clock.page_slug}/incidents",
                            json={"title": title}, headers=write)
    clock.advance(days=2)  # 2026-04-06: outside the range
    clocked_client.post(f"/api/v1/pages/{tenant_on_clock.page_slug}/incidents",
                        json={"title": "too late"}, headers=write)
    export = request_export(clocked_client, tenant_on_clock, format="csv")
    finish(clocked_beacon, export["id"])
    location = clocked_client.get(f"/api/v1/exports/{export['id']}/download",
                                  headers=tenant_on_clock.headers("read"),
                                  follow_redirects=False).headers["location"]
    download = clocked_client.get(location)
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert sorted(r["title"] for r in rows) == ["first", "second"]
    assert rows[0]["updates"] == "[]" and rows[0]["resolved"] == "False"
    other = make_tenant(clocked_client, name="Other", slug="other")
    assert clocked_client.get(f"/api/v1/exports/{export['id']}",
                              headers=other.headers("read")).status_code == 404


def test_events_export_reads_the_telemetry_read_model(clocked_client: TestClient,
                                                      clocked_beacon: Beacon,
                                                      tenant_on_clock: Tenant) -> None:
    days = ["2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02", "2026-04-03", "2026-04-04"]
    batch = [{"event_id": f"01912345-6789-7abc-def0-12345678900{n}", "category": "reports",
              "name": "report_exported", "timestamp": f"{day}T10:00:00Z",
              "actor_id": "user-1", "source_app": "MyApp", "source_version": "1.0.0",
              "properties": {"n": str(n)}} for n, day in enumerate(days)]
    accepted = clocked_client.post("/v1/events", json=batch,
                                   headers=tenant_on_clock.headers("ingest"))
    assert accepted.status_code == 200, accepted.text
    export = request_export(clocked_client, tenant_on_clock, kind="events")
    finish(clocked_beacon, export["id"])
    location = clocked_client.get(f"/api/v1/exports/{export['id']}/download",
                                  headers=tenant_on_clock.headers("read"),
                                  follow_redirects=False).headers["location"]
    lines = [json.loads(line) for line in clocked_client.get(location).text.splitlines()]
    assert [e["properties"]["n"] for e in lines] == ["2", "3", "4", "5"]
    assert lines[0]["timestamp"] == "2026-04-01T10:00:00.000000Z"


def test_export_requests_are_validated(clocked_client: TestClient,
                                       tenant_on_clock: Tenant) -> None:
    for body in ({"format": "xml"}, {"kind": "sessions"}, {"from": "2026-04-05T00:00:00Z"},
                 {"from": "yesterday"}, {"to": "2028-01-01T00:00:00Z"}):
        response = clocked_client.post("/api/v1/exports", json={
            **RANGE, "format": "ndjson", "kind": "incidents", **body},
            headers=tenant_on_clock.headers("read"))
        assert response.status_code == 422, body
    assert clocked_client.post("/api/v1/exports", json={**RANGE, "format": "csv",
                                                        "kind": "incidents"},
                               headers=tenant_on_clock.headers("ingest")).status_code == 403
    assert clocked_client.get("/api/v1/exports/nope",
                              headers=tenant_on_clock.headers("read")).status_code == 404
