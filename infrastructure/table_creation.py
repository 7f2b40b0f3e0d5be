"""One process at a time creates Beacon's tables in a PostgreSQL schema.

Every process builds everything at start and creates what is missing with `CREATE ... IF NOT
EXISTS`, which PostgreSQL does not make safe against another session doing the same at the same
moment: two processes started together on a fresh database (the production shape's API,
projector and worker) failed on duplicate catalog rows ("tuple concurrently updated", a unique
violation in `pg_type` or `pg_namespace`), and the one that lost exited. A session-level advisory
lock per schema, held while a process builds, makes the others wait for it; they then find the
tables there. SQLite needs none: each file is locked by SQLite itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


def lock_number(schema: str) -> int:
    """The advisory lock of a schema's tables (a bigint, far from the workspace locks' keys only
    by chance: two sharing one just queue)."""
    digest = hashlib.sha256(f"beacon tables {schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def one_creator_at_a_time(database_url: str, schema: str) -> Iterator[None]:
    """Hold the schema's lock for the block, on a connection of its own."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", [lock_number(schema)])
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", [lock_number(schema)])
