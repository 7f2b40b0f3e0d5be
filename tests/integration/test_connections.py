"""One Beacon process holds a small, bounded number of PostgreSQL connections (README, "The
production shape"), however busy it is: counted in pg_stat_activity by its application_name."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from domain.tracked_event import check_event
from infrastructure.enrichment_runner import EnrichmentRunner
from infrastructure.settings import PIPELINE_PLACE_POOL_SIZE, Settings, pool_budget
from interfaces.bootstrap import Beacon, all_projections, bootstrap
from tests.services import fresh_schema, require_postgres

pytestmark = pytest.mark.postgres

ADMIN = {"Authorization": "Bearer connections-test-admin-token-0123456789"}
BEACON = Path(sys.executable).with_name("beacon")
# One LISTEN connection for each log that projections follow (StatusPages, Telemetry, ...).
LOGS_WITH_PROJECTIONS = len({projection.source for projection in all_projections()})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def connections(url: str, application_name: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                           [application_name]).fetchone()
    return int(row[0]) if row else 0


def answering(server: subprocess.Popen[bytes], port: int) -> bool:
    """Whether the server answers /healthz within a minute (False at once if it died)."""
    for _ in range(300):
        if server.poll() is not None:
            return False
        with suppress(httpx.HTTPError):
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success
        time.sleep(0.2)
    return False


def serve(url: str, schema: str, tmp_path: Path, application_name: str, pool_size: int,
          port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BEACON_DATABASE_URL": url, "BEACON_DB_SCHEMA": schema,
           "BEACON_ENV": "production", "BEACON_ADMIN_TOKEN": ADMIN["Authorization"][7:],
           "BEACON_DATA_DIR": str(tmp_path), "BEACON_REDIS_URL": "", "BEACON_LOG_LEVEL": "WARNING",
           "BEACON_DB_POOL_SIZE": str(pool_size), "PGAPPNAME": application_name}
    log = tmp_path / "serve.log"
    server = subprocess.Popen([str(BEACON), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    if answering(server, port):
        return server
    server.kill()
    server.wait()
    pytest.fail(f"beacon serve did not start: {log.read_text()[-2000:]}")


def batch(size: int = 200) -> list[dict[str, Any]]:
    at = datetime.now(UTC).isoformat()
    return [{"event_id": str(uuid.uuid4()), "category": "nav", "name": "viewed", "timestamp": at,
             "actor_id": "user-1", "source_app": "Test", "source_version": "1.0",
             "properties": {}} for _ in range(size)]


def tracked(size: int) -> list[Any]:
    now = datetime.now(UTC)
    return [check_event(event, now) for event in batch(size)]


def busy(base: str) -> None:
    """What a busy process does at once: ingestion from many clients, reads, writes, beats."""
    with httpx.Client(base_url=base, timeout=30) as http:
        workspace = http.post("/admin/v1/workspaces", json={"name": "Busy", "plan": "pro"},
                              headers=ADMIN).json()["data"]["id"]
        keys = {scope: http.post(f"/admin/v1/workspaces/{workspace}/keys",
                                 json={"name": scope, "scopes": [scope]},
                                 headers=ADMIN).json()["data"]["key"]
                for scope in ("ingest", "write", "read")}
        http.post(f"/admin/v1/workspaces/{workspace}/pages", json={"slug": "busy", "name": "Busy"},
                  headers=ADMIN).raise_for_status()
        monitor = http.post("/api/v1/monitors", json={"name": "cron", "page_slug": "busy"},
                            headers={"Authorization": f"Bearer {keys['write']}"}).json()["data"]

    def call(n: int) -> int:
        with httpx.Client(base_url=base, timeout=30) as http:
            kind = n % 4
            if kind == 0:
                return http.post("/v1/events", json=batch(),
                                 headers={"Authorization": f"Bearer {keys['ingest']}"}).status_code
            if kind == 1:
                return http.post("/graphql", json={"query": "{ usage { used } }"},
                                 headers={"Authorization": f"Bearer {keys['read']}"}).status_code
            if kind == 2:
                return http.post("/api/v1/pages/busy/incidents", json={"title": f"Down {n}"},
                                 headers={"Authorization": f"Bearer {keys['write']}"}).status_code
            return http.get(f"/api/v1/beet/{monitor['token']}").status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(call, range(96)))
    assert set(statuses) <= {200, 201}, statuses


@pytest.mark.parametrize("pool_size", [2, 3])
def test_a_busy_process_stays_within_its_connection_budget(tmp_path: Path, pool_size: int) -> None:
    url = require_postgres()
    application_name = f"beacon-conn-{uuid.uuid4().hex[:8]}"
    bound = pool_budget(Settings(db_pool_size=pool_size)) + LOGS_WITH_PROJECTIONS + \
        PIPELINE_PLACE_POOL_SIZE
    with fresh_schema() as schema:
        port = free_port()
        server = serve(url, schema, tmp_path, application_name, pool_size, port)
        try:
            peak = 0
            with ThreadPoolExecutor(1) as watcher:
                load = watcher.submit(busy, f"http://127.0.0.1:{port}")
                while not load.done():
                    peak = max(peak, connections(url, application_name))
                    time.sleep(0.05)
                load.result()
            peak = max(peak, connections(url, application_name))
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    assert 0 < peak <= bound, f"{peak} connections, more than {bound}"


@pytest.mark.parametrize("backend", ["postgres"])
def test_the_pipelines_place_has_a_connection_only_where_the_pipeline_runs(
        quiet_beacon: Beacon) -> None:
    """Reading the pipeline's place (status, read-your-writes: what an API process does) opens
    no connection for it; running the pipeline opens its one, and closing the Beacon closes it."""
    runner = next(r for r in quiet_beacon.runners if isinstance(r, EnrichmentRunner))
    pool = runner.place.db.pool  # type: ignore[attr-defined]
    assert runner.store.db is quiet_beacon.databases["Telemetry"]  # read on the read models' pool
    assert runner.place.db is not runner.store.db
    quiet_beacon.wait_for("Telemetry", 0, timeout=1)
    assert runner.store.position() == 0 and pool.get_stats()["pool_size"] == 0
    runner.catch_up()
    assert pool.get_stats()["pool_size"] == PIPELINE_PLACE_POOL_SIZE
    runner.close()  # as Beacon.close does
    assert pool.closed


@pytest.mark.parametrize("backend", ["postgres"])
def test_exception_reports_and_batches_share_the_smallest_pool(settings: Settings) -> None:
    """At BEACON_DB_POOL_SIZE=1 (two telemetry connections), a report holding its workspace's
    lock saves on the lock's connection: the batches queued behind the lock, holding the
    others, do not keep it waiting for one (which would end in a 503 after the pool's wait)."""
    beacon = bootstrap(settings.model_copy(update={"db_pool_size": 1}))
    workspace_id = uuid.uuid4()
    report: dict[str, Any] = {"exception_type": "ValueError", "severity": "fatal", "actor_id": "a1",
              "occurred_at": "2026-03-20T14:30:00+00:00", "source_app": "App",
              "source_version": "1", "message": "bad", "stack_trace": "", "breadcrumbs": [],
              "session_id": None, "environment_context": None}
    app = beacon.telemetry
    try:
        app.ingest(workspace_id, tracked(1), limit=10**6)  # the month's first decision
        with ThreadPoolExecutor(6) as pool:
            reports = [pool.submit(app.report_exception, workspace_id,
                                   {**report, "exception_id": f"x{n}"}, limit=10**6)
                       for n in range(6)]
            batches = [pool.submit(app.ingest, workspace_id, tracked(20), limit=10**6)
                       for _ in range(6)]
            assert all(future.result()[1] for future in reports)
            assert [future.result().count("accepted") for future in batches] == [20] * 6
        assert app.usage(workspace_id, 10**6)["used"] == 1 + 6 + 120
    finally:
        beacon.close()


SETTINGS_SQL = ("SELECT current_setting('work_mem') AS work_mem,"
                " current_setting('statement_timeout') AS timeout,"
                " current_setting('application_name') AS name")


@pytest.mark.parametrize("where", ["environment", "url"])
def test_every_connection_keeps_the_operators_session_settings(
        where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Session settings the operator gives in PGOPTIONS or in the URL (its `options`, and any
    other parameter, here `application_name`) reach every pool of a Beacon: the read models',
    beside the schema Beacon searches first (libpq reads PGOPTIONS only when the connection names
    no `options` of its own), and each application's event store, whose library takes only the
    URL's database, host, port, user and password apart."""
    url = require_postgres()
    if where == "environment":
        monkeypatch.setenv("PGOPTIONS", "-c work_mem=7MB -c statement_timeout=4321")
        monkeypatch.setenv("PGAPPNAME", "beacon-settings-test")
    else:
        monkeypatch.setenv("PGOPTIONS", "-c work_mem=1MB")
        monkeypatch.setenv("PGAPPNAME", "not-this-one")
        url += (("&" if "?" in url else "?") + "application_name=beacon-settings-test"
                "&options=-c%20work_mem%3D7MB%20-c%20statement_timeout%3D4321")
    expected = {"work_mem": "7MB", "timeout": "4321ms", "name": "beacon-settings-test"}
    with fresh_schema() as schema:
        beacon = bootstrap(Settings(env="test", data_dir=tmp_path, admin_token="x" * 32,
                                    database_url=url, db_schema=schema))
        try:
            read_models = {name: database.query(SETTINGS_SQL + ", current_setting('search_path')"
                                                " AS path")[0]
                           for name, database in beacon.databases.items()}
            stores = {}
            for app in (beacon.workspaces, beacon.statuspages, beacon.telemetry,
                        beacon.monitoring, beacon.exports, beacon.configuration, beacon.alerts):
                with app.factory.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
                    cursor.execute(SETTINGS_SQL)
                    stores[app.name] = cursor.fetchone()
        finally:
            beacon.close()
    assert read_models and all(row == {**expected, "path": schema} for row in read_models.values())
    assert len(stores) == 7 and all(row == expected for row in stores.values()), stores
