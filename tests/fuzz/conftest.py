"""A Beacon on each backend for the fuzzers: a workspace with a page, one key per scope, and the
admin token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from infrastructure.settings import Settings
from interfaces.bootstrap import bootstrap
from interfaces.rest.app import create_app
from tests.conftest import ADMIN, ADMIN_TOKEN, make_tenant
from tests.services import fresh_schema, require_postgres


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzzed_settings(request: pytest.FixtureRequest,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    if request.param == "sqlite":
        yield Settings(env="test", data_dir=data_dir, admin_token=ADMIN_TOKEN)
        return
    url = require_postgres()
    with fresh_schema() as schema:
        yield Settings(env="test", data_dir=data_dir, admin_token=ADMIN_TOKEN, database_url=url,
                       db_schema=schema)


@pytest.fixture(scope="module")
def fuzzed_app(fuzzed_settings: Settings) -> Iterator[tuple[FastAPI, dict[str, dict]]]:
    """The real app and the credentials to present: each key scope and the admin token."""
    beacon = bootstrap(fuzzed_settings)
    beacon.start_projections()
    app = create_app(beacon)
    try:
        with TestClient(app) as client:
            tenant = make_tenant(client, plan="enterprise")
            credentials = {scope: tenant.headers(scope) for scope in ("ingest", "write", "read")}
            yield app, {**credentials, "admin": ADMIN}
    finally:
        beacon.close()
