"""The daily visitor salts, in the Telemetry database, on SQLite and PostgreSQL alike.

Not events: an event is kept for ever, and a salt must be destroyed when its day is over, so that
no visitor id of that day can be recomputed (docs/decisions/enrichment-pipeline.md).
"""

from __future__ import annotations

import secrets
from datetime import date

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
            cur.execute(f"DELETE FROM {SALTS} WHERE day < %s", [day.isoformat()])
            cur.execute(f"INSERT INTO {SALTS} (day, salt) VALUES (%s, %s) ON CONFLICT (day) DO NOTHING",
                        [day.isoformat(), secrets.token_hex(32)])
            cur.execute(f"SELECT salt FROM {SALTS} WHERE day = %s", [day.isoformat()])
            row = cur.fetchone()
        assert row is not None  # inserted above, or by a concurrent writer
        return bytes.fromhex(row["salt"])

    def days(self) -> list[str]:
        """The days whose salts still exist (for tests and operators: at most today's)."""
        return [row["day"] for row in self.db.query(f"SELECT day FROM {SALTS} ORDER BY day")]
