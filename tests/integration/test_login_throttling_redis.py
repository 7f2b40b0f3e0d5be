"""Login throttling on a real Redis: API processes share the failure windows (DESIGN.md decision 8)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon, bootstrap
from interfaces.rest.app import create_app
from tests.services import require_redis


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[Beacon, Beacon]]:
    """Two Beacons as two API processes of one deployment would be: their own memory, one
    database and one Redis."""
    redis_url = require_redis()
    beacons = [bootstrap(Settings(env="test", data_dir=tmp_path, redis_url=redis_url,
                                  admin_token="test-admin-token-0123456789abcdef"))
               for _ in ("api-1", "api-2")]
    try:
        yield beacons[0], beacons[1]
    finally:
        for beacon in beacons:
            beacon.close()


def test_failures_counted_by_one_process_lock_the_account_in_another(
        two_processes: tuple[Beacon, Beacon]) -> None:
    email = f"{uuid.uuid4().hex}@example.com"  # windows live 15 min in the shared Redis
    address = f"127.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    first, second = (TestClient(create_app(b), client=(address, 50000)) for b in two_processes)
    for _ in range(10):
        answer = first.post("/api/auth/login", json={"email": email, "password": "x" * 12})
        assert answer.status_code == 401
    locked = second.post("/api/auth/login", json={"email": email, "password": "x" * 12})
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0


def test_another_deployment_on_the_same_redis_keeps_its_own_windows(
        two_processes: tuple[Beacon, Beacon], tmp_path: Path) -> None:
    email = f"{uuid.uuid4().hex}@example.com"
    other = bootstrap(Settings(env="test", data_dir=tmp_path / "elsewhere",
                               redis_url=require_redis(),
                               admin_token="test-admin-token-0123456789abcdef"))
    try:
        first = TestClient(create_app(two_processes[0]), client=("127.0.0.9", 50000))
        for _ in range(10):
            assert first.post("/api/auth/login",
                              json={"email": email, "password": "x" * 12}).status_code == 401
        elsewhere = TestClient(create_app(other), client=("127.0.0.9", 50000))
        answer = elsewhere.post("/api/auth/login", json={"email": email, "password": "x" * 12})
        assert answer.status_code == 401  # wrong password there, but not throttled
    finally:
        other.close()
