"""The daily visitor salts, in the Telemetry database, on SQLite and PostgreSQL alike.

Not events: an event is kept for ever, and a salt must be destroyed when its day is over, so that
no visitor id of that day can be recomputed (docs/decisions/enrichment-pipeline.md).
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from infrastructure.database import Database

SALTS = "visitor_salts"


class SqlVisitorSalts:
    def __init__(self, db: Database):
        self.db = db

    def create_tables(self) -> None:
        with self.db.transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {SALTS} (day TEXT PRIMARY KEY, salt TEXT NOT NULL)")

    def salt_for(self, day: date) -> bytes:
        """The day's salt: the first process to ask makes it, every other reads that one."""
        with self.db.transaction() as cur:
            self._destroy(cur, day)
            cur.execute(f"INSERT INTO {SALTS} (day, salt) VALUES (%s, %s) ON CONFLICT (day) DO NOTHING",
                        [day.isoformat(), secrets.token_hex(32)])
            cur.execute(f"SELECT salt FROM {SALTS} WHERE day = %s", [day.isoformat()])
            row = cur.fetchone()
        assert row is not None  # inserted above, or by a concurrent writer
        return bytes.fromhex(row["salt"])

    def destroy_before(self, day: date) -> int:
        """Destroy every salt older than `day`; returns how many there were. On SQLite the
        write-ahead log, which still holds the pages as they were, is then checkpointed and
        truncated, so that the old salts are in neither file."""
        with self.db.transaction() as cur:
            destroyed = self._destroy(cur, day)
        if destroyed and self.db.dialect == "sqlite":
            self.db.query("PRAGMA wal_checkpoint(TRUNCATE)")
        return destroyed

    def _destroy(self, cur: Any, day: date) -> int:
        """Delete the older salts. On SQLite, with `secure_delete`, their bytes are overwritten
        with zeros in the file rather than left in a free page; PostgreSQL has no such setting
        (a deleted row's bytes stay in the table's page until it is reused or vacuumed)."""
        if self.db.dialect == "sqlite":
            cur.execute("PRAGMA secure_delete = ON")
        deleted = cur.execute(f"DELETE FROM {SALTS} WHERE day < %s", [day.isoformat()])
        return max(int(deleted.rowcount), 0)

    def days(self) -> list[str]:
        """The days whose salts still exist (for tests and operators: at most today's)."""
        return [row["day"] for row in self.db.query(f"SELECT day FROM {SALTS} ORDER BY day")]
