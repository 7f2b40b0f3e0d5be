"""Where the real PostgreSQL and Redis for tests are, and what to do when they are missing.

Unreachable services skip their tests with a printed reason, except under CI, where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import redis
from psycopg import sql

DATABASE_URL = os.environ.get("BEACON_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _redis_url() -> str:
    """The tests' Redis: a database of each pytest-xdist worker's own (1, 2, …), since tests
    flush theirs; 0 when the suite runs in one process."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", …
    database = 1 + int(worker[2:]) if worker.startswith("gw") else 0
    return os.environ.get("BEACON_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{database}")


REDIS_URL = _redis_url()


def unavailable(what: str, error: Exception) -> None:
    reason = f"{what} unreachable ({error}); set BEACON_TEST_{what.upper()}_URL"
    if os.environ.get("CI"):
        pytest.fail(f"CI requires {reason}", pytrace=False)
    pytest.skip(reason)


def require_postgres() -> str:
    try:
        with psycopg.connect(DATABASE_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        unavailable("database", error)
    return DATABASE_URL


def require_redis() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except redis.RedisError as error:
        unavailable("redis", error)
    return REDIS_URL


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A PostgreSQL schema of its own for one test, dropped afterwards."""
    url = require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        yield schema
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))


class RedisServer:
    """A redis-server of a test's own on a free port, to stop and start again (an outage)."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis", FileNotFoundError("no redis-server on PATH"))
        self.binary = str(binary)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_timeout=1).ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@contextmanager
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
