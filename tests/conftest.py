"""Fixtures: a Beacon on each backend, an HTTP client, and a workspace with keys and a page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient

from application.base import BeaconApplication
from infrastructure.settings import Settings, eventsourcing_env
from interfaces.bootstrap import Beacon, bootstrap, ensure_schema
from interfaces.rest.app import create_app
from tests.services import fresh_schema, require_postgres

# Every test builds Beacon's tables in a schema of its own: ~75 short DDL transactions, each of
# which waits for the WAL to reach the disk by default (2 s a test here, 62 minutes of CI). The
# suite's connections (and the `beacon` subprocesses it starts, which inherit the environment)
# commit without waiting for that flush. Transactions, locks and isolation are PostgreSQL's own
# as in production; only a crash of the PostgreSQL server itself could lose the last commits,
# which no test does (the kill -9 tests kill Beacon, not PostgreSQL).
os.environ.setdefault("PGOPTIONS", "-c synchronous_commit=off")

ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
A = TypeVar("A", bound=BeaconApplication)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Any) -> Iterator[Settings]:
    if backend == "sqlite":
        yield Settings(env="test", data_dir=tmp_path, admin_token=ADMIN_TOKEN)
        return
    url = require_postgres()
    with fresh_schema() as schema:
        yield Settings(env="test", data_dir=tmp_path, admin_token=ADMIN_TOKEN,
                       database_url=url, db_schema=schema)


@pytest.fixture
def beacon(settings: Settings) -> Iterator[Beacon]:
    beacon = bootstrap(settings)
    beacon.start_projections()
    with closing(beacon):
        yield beacon


@pytest.fixture
def quiet_beacon(settings: Settings) -> Iterator[Beacon]:
    """A Beacon whose projections only run when a test says so."""
    beacon = bootstrap(settings)
    with closing(beacon):
        yield beacon


def client_of(beacon: Beacon) -> Iterator[TestClient]:
    with TestClient(create_app(beacon)) as client:
        yield client


@pytest.fixture
def client(beacon: Beacon) -> Iterator[TestClient]:
    yield from client_of(beacon)


@dataclass
class Tenant:
    """A workspace as a user sees it: its id, a page, and one key per scope."""

    id: str
    page_slug: str
    keys: dict[str, str]
    key_ids: dict[str, str]

    def headers(self, scope: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[scope]}", **extra}


def make_tenant(client: TestClient, name: str = "Acme", plan: str = "pro",
                slug: str = "acme-cloud") -> Tenant:
    response = client.post("/admin/v1/workspaces", json={"name": name, "plan": plan},
                           headers=ADMIN)
    assert response.status_code == 201, response.text
    workspace_id = response.json()["data"]["id"]
    keys, key_ids = {}, {}
    for scope in ("ingest", "write", "read"):
        response = client.post(f"/admin/v1/workspaces/{workspace_id}/keys",
                               json={"name": f"{scope} key", "scopes": [scope]}, headers=ADMIN)
        assert response.status_code == 201, response.text
        keys[scope] = response.json()["data"]["key"]
        key_ids[scope] = response.json()["data"]["id"]
    response = client.post(f"/admin/v1/workspaces/{workspace_id}/pages",
                           json={"slug": slug, "name": f"{name} status"}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return Tenant(id=workspace_id, page_slug=slug, keys=keys, key_ids=key_ids)


@pytest.fixture
def tenant(client: TestClient) -> Tenant:
    return make_tenant(client)


class FakeClock:
    """A clock the test moves by hand: time-driven behaviour without sleeping."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 4, 4, 12, 0, tzinfo=UTC))


@pytest.fixture
def clocked_beacon(settings: Settings, clock: FakeClock) -> Iterator[Beacon]:
    """A Beacon on the test's clock, allowed to send webhooks to this machine, with no worker."""
    beacon = bootstrap(settings.model_copy(update={"allow_private_webhooks": True}), clock=clock)
    beacon.start_projections()
    with closing(beacon):
        yield beacon


@pytest.fixture
def clocked_client(clocked_beacon: Beacon) -> Iterator[TestClient]:
    yield from client_of(clocked_beacon)


def data_of(response: Any, status: int = 200) -> Any:
    """What a call answered inside its `{"data": …}` envelope, once it answered `status`."""
    assert response.status_code == status, response.text
    return response.json()["data"]


def settle(beacon: Beacon) -> None:
    """Bring every read model up to the head of its log, now (what the projector does soon)."""
    for runner in beacon.runners:
        runner.catch_up()


@pytest.fixture
def tenant_on_clock(clocked_client: TestClient) -> Tenant:
    return make_tenant(clocked_client)


@contextmanager
def two_processes_of(application: type[A], settings: Settings) -> Iterator[tuple[A, A]]:
    """Two instances of one application on the same store, as two API processes would hold."""
    ensure_schema(settings)
    first = application(eventsourcing_env(settings, application.name))
    second = application(eventsourcing_env(settings, application.name))
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """A clone without Chromium hears once, on one line, what it missed and how to get it."""
    skipped = [report for report in terminalreporter.stats.get("skipped", [])
               if "chromium" in str(report.longrepr).lower()]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} browser test(s) skipped: no Chromium at /usr/bin/chromium; "
            "run `apt-get install chromium` (Debian) to enable them")
