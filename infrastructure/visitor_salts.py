"""The daily visitor salts, in the Telemetry database, on SQLite and PostgreSQL alike.

Not events: an event is kept for ever, and a salt must be destroyed when its day is over, so that
no visitor id of that day can be recomputed (docs/decisions/enrichment-pipeline.md).
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any, cast

from infrastructure.database import Database

SALTS = "visitor_salts"


class SqlVisitorSalts:
    def __init__(self, db: Database):
        self.db = db
        self._finished: date | None = None  # the day of the last sweep that made deletions final

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
        """Destroy every salt older than `day`; returns how many there were. A deleted row's
        bytes outlive the DELETE, whoever ran it (`salt_for` does at the day's first request):
        in SQLite's write-ahead log, which still holds the page as it was, and on PostgreSQL in
        the table's page until it is reused. So after deleting, and at the first sweep of each
        day in any case, the deletion is made final: SQLite's log is checkpointed and truncated
        (with `secure_delete` the file's page holds zeros there), PostgreSQL's table rewritten
        into a new file (`VACUUM FULL`: a moment's lock on one row) and the old file removed."""
        with self.db.transaction() as cur:
            destroyed = self._destroy(cur, day)
        if destroyed or self._finished != day:
            self._finish()
            self._finished = day
        return destroyed

    def _finish(self) -> None:
        if self.db.dialect == "sqlite":
            self.db.query("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        with cast(Any, self.db).connection() as conn:
            conn.autocommit = True  # VACUUM runs outside a transaction
            try:
                conn.execute(f"VACUUM FULL {SALTS}")
            finally:
                conn.autocommit = False

    def _destroy(self, cur: Any, day: date) -> int:
        """Delete the older salts. On SQLite, with `secure_delete`, their bytes are overwritten
        with zeros in the file rather than left in a free page; PostgreSQL has no such setting
        (see `destroy_before`)."""
        if self.db.dialect == "sqlite":
            cur.execute("PRAGMA secure_delete = ON")
        deleted = cur.execute(f"DELETE FROM {SALTS} WHERE day < %s", [day.isoformat()])
        return max(int(deleted.rowcount), 0)

    def days(self) -> list[str]:
        """The days whose salts still exist (for tests and operators: at most today's)."""
        return [row["day"] for row in self.db.query(f"SELECT day FROM {SALTS} ORDER BY day")]
