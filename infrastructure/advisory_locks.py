"""Workspace locks shared by every API process: PostgreSQL transaction-level advisory locks.

Without them, two processes writing for one workspace both load its TenantQuota, one save wins
and the other's whole transaction (ledger rows, batch) is thrown away and retried, which wastes
much of PostgreSQL's work. With them the second process
waits its turn, for about one short transaction. `hold` takes the lock in a transaction of its
own connection (exception reports); ingestion takes the same lock inside its write transaction,
after its ledger rows (infrastructure/telemetry_recorder.py). Either way a process that dies, or a
connection that breaks, releases it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any
from uuid import UUID

import psycopg.errors
from eventsourcing.persistence import OperationalError
from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor

WAIT_SECONDS = 10


def lock_number(key: UUID) -> int:
    """The advisory lock's bigint: the key's first 64 bits (two keys sharing them just queue)."""
    return int.from_bytes(key.bytes[:8], "big", signed=True)


def ask_for_lock(cur: Cursor[Any], key: UUID, wait_seconds: int = WAIT_SECONDS) -> None:
    """Ask for the key's lock in the cursor's transaction, waiting at most `wait_seconds` (in a
    pipeline, only queued: it is taken once the statements before it have run). Run it inside
    `lock_waits(wait_seconds)`."""
    cur.execute("SELECT set_config('lock_timeout', %s, true)", [f"{wait_seconds}s"], prepare=False)
    cur.execute("SELECT pg_advisory_xact_lock(%s)", [lock_number(key)], prepare=False)


@contextmanager
def lock_waits(wait_seconds: int = WAIT_SECONDS) -> Iterator[None]:
    """A lock not had in time is the database's unavailability (503), not a bug."""
    try:
        yield
    except psycopg.errors.LockNotAvailable as error:
        raise OperationalError(f"waited over {wait_seconds}s for the workspace's lock") from error


Pin = Callable[[Any], AbstractContextManager[None]]


class PostgresAdvisoryLocks:
    """`pin(conn)` runs the holder's own reads and writes on the lock's connection: a holder that
    took a second one from a small pool could wait for ever behind the writers it makes wait."""

    def __init__(self, datastore: PostgresDatastore, wait_seconds: int = WAIT_SECONDS,
                 pin: Pin = lambda conn: nullcontext()):
        self.datastore = datastore
        self.wait_seconds = wait_seconds
        self.pin = pin

    @contextmanager
    def hold(self, key: UUID) -> Iterator[None]:
        with self.datastore.get_connection() as conn, conn.transaction():
            with lock_waits(self.wait_seconds), conn.cursor() as cur, conn.pipeline():
                ask_for_lock(cur, key, self.wait_seconds)  # one round trip
            with self.pin(conn):
                yield
