"""Where the real PostgreSQL and Redis for tests are, and what to do when they are missing.

Unreachable services skip their tests with a printed reason, except under CI, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import redis
from psycopg import sql

DATABASE_URL = os.environ.get("BEACON_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BEACON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


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
