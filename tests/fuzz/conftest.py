"""A Beacon on SQLite for the fuzzers: a workspace with a page, one key per scope, and the admin."""

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


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, dict[str, dict]]]:
    """The real app and the credentials to present: each key scope and the admin token."""
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    beacon = bootstrap(Settings(env="test", data_dir=data_dir, admin_token=ADMIN_TOKEN))
    beacon.start_projections()
    app = create_app(beacon)
    try:
        with TestClient(app) as client:
            tenant = make_tenant(client, plan="enterprise")
            credentials = {scope: tenant.headers(scope) for scope in ("ingest", "write", "read")}
            yield app, {**credentials, "admin": ADMIN}
    finally:
        beacon.close()
