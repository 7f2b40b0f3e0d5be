"""One small interface over SQLite and PostgreSQL for read models: transactions and queries.

The event store itself is the eventsourcing library's; this is for the read models that live
beside it, in the same database, so a page of events and its tracking position commit together.
SQL is written once with `%s` placeholders; the SQLite side translates them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import orjson
import psycopg
import psycopg.conninfo
from eventsourcing.persistence import EnvType
from eventsourcing.postgres import PostgresDatastore, PostgresFactory
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from infrastructure.nul_text import tolerate_nul
from infrastructure.settings import URL_KEY

Row = dict[str, Any]
_SHARED_KEYS = ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DBNAME", "POSTGRES_USER", "POSTGRES_SCHEMA",
                URL_KEY)


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> Any: ...
    def fetchall(self) -> list[Row]: ...
    def fetchone(self) -> Row | None: ...


class Database(ABC):
    """A read-model database: SQLite file or PostgreSQL schema."""

    dialect: str

    @abstractmethod
    def transaction(self) -> Any:
        """A context manager yielding a cursor; commits on success, rolls back on error."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.transaction() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def json(self, value: Any) -> Any:
        """Adapt a JSON value for a `json` column."""
        return value

    def load_json(self, value: Any) -> Any:
        return value

    @abstractmethod
    def ping(self) -> None:
        """Raise if the database cannot be reached."""

    def close(self) -> None:  # noqa: B027 - most databases hold nothing to release
        """Release connections."""


class _SQLiteCursor:
    def __init__(self, cursor: sqlite3.Cursor):
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cursor.execute(sql.replace("%s", "?"), params)

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> Any:
        return self._cursor.executemany(sql.replace("%s", "?"), params)

    def fetchall(self) -> list[Row]:
        return [dict(row) for row in self._cursor.fetchall()]

    def fetchone(self) -> Row | None:
        row = self._cursor.fetchone()
        return dict(row) if row is not None else None


class SQLiteDatabase(Database):
    """A SQLite file in WAL mode; one connection per thread, writers wait up to the busy timeout."""

    dialect = "sqlite"

    def __init__(self, path: Path | str, busy_timeout_s: float = 30.0):
        self.path = str(path)
        self.busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._lock = threading.Lock()  # one writer at a time within this process
        # Every thread's connection, so that `close` releases them all: a thread-local one lives
        # on in a pool's idle thread, and a process that opens Beacon after Beacon (the tests)
        # ran out of file descriptors.
        self._opened: list[sqlite3.Connection] = []

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def close(self) -> None:
        """Close every thread's connection (a thread that uses the database again reopens)."""
        with self._lock:
            opened, self._opened = self._opened, []
            self._local = threading.local()
        for conn in opened:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        conn = self._connection()
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SQLiteCursor(conn.cursor())
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cur = _SQLiteCursor(self._connection().cursor())
        cur.execute(sql, params)
        return cur.fetchall()

    def json(self, value: Any) -> Any:
        if value is None:
            return None
        try:
            return orjson.dumps(value).decode()
        except orjson.JSONEncodeError:  # e.g. an integer past 64 bits, which an event may hold
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def load_json(self, value: Any) -> Any:
        return None if value is None else orjson.loads(value)

    def ping(self) -> None:
        self._connection().execute("SELECT 1").fetchone()


class PostgresDatabase(Database):
    """A psycopg 3 pool whose connections search the given schema first."""

    dialect = "postgres"

    def __init__(self, url: str, schema: str = "public", min_size: int = 1, max_size: int = 10):
        self.url = url
        self.schema = schema
        self.pool = ConnectionPool(
            url, min_size=min_size, max_size=max_size, open=True, timeout=10,
            kwargs={"row_factory": dict_row, "options": session_options(url, schema),
                    "autocommit": False},
            check=ConnectionPool.check_connection, configure=tolerate_nul,
        )

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield cur  # type: ignore[misc]

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        with self.pool.connection() as conn:
            yield conn

    def json(self, value: Any) -> Any:
        return None if value is None else Jsonb(value)

    def ping(self) -> None:
        with self.pool.connection(timeout=3) as conn:
            conn.execute("SELECT 1")

    def close(self) -> None:
        self.pool.close()


def session_options(url: str, schema: str) -> str:
    """The connection's `options`: what the operator already set (the URL's `options`, else the
    PGOPTIONS environment variable, which libpq ignores once `options` is given), then the schema
    to search first."""
    given = psycopg.conninfo.conninfo_to_dict(url).get("options") or os.environ.get("PGOPTIONS", "")
    return f"{given} -c search_path={schema}".strip()


def connection_parameters(url: str) -> dict[str, Any]:
    """What the URL says beyond what the eventsourcing library takes apart (database, host, port,
    user, password: infrastructure/settings.py `eventsourcing_env`): `sslmode`, `options`,
    `application_name`, ... which its pool would otherwise connect without."""
    taken = {"dbname", "host", "port", "user", "password"}
    return {k: v for k, v in psycopg.conninfo.conninfo_to_dict(url).items() if k not in taken}


class UrlPostgresFactory(PostgresFactory):
    """The library's PostgreSQL persistence, connecting with the whole database URL: the library
    takes its database, host, port, user and password apart, and its pool gets the rest here."""

    def __init__(self, env: EnvType | Any):
        super().__init__(env)
        kwargs = self.datastore.pool.kwargs  # the library's dict: its pool connects on first use
        assert isinstance(kwargs, dict)
        kwargs.update(connection_parameters(self.env.get(URL_KEY) or ""))


class SharedPostgresFactory(UrlPostgresFactory):
    """The library's PostgreSQL persistence, except that every application built with it in one
    process, on one database and schema, shares one datastore, so one pool of connections: the
    quieter applications' short transactions do not need a pool each (settings.pool_budget).
    The pool closes when the last of them closes."""

    _shared: dict[tuple[str, ...], tuple[PostgresDatastore, int]] = {}
    _lock = threading.Lock()

    def __init__(self, env: EnvType | Any):
        super().__init__(env)
        self._key = tuple(str(self.env.get(name)) for name in _SHARED_KEYS)
        own = self.datastore  # not open yet: its pool connects on first use
        with self._lock:
            shared, users = self._shared.get(self._key, (own, 0))
            self._shared[self._key] = (shared, users + 1)
        if shared is not own:
            own.close()
            self.datastore = shared

    def close(self) -> None:
        if getattr(self, "_closed", False):  # an application closed twice lets go once
            return
        self._closed = True
        with self._lock:
            shared, users = self._shared.get(self._key, (self.datastore, 1))
            if users > 1:
                self._shared[self._key] = (shared, users - 1)
                return
            self._shared.pop(self._key, None)
        super().close()
