"""What became of each delivery of the outbox: claims, outcomes and every attempt, in SQL.

These tables belong to the deliveries, not to the projection, so rebuilding the outbox (which makes
the same delivery keys again) never resends a delivery that already went out.
"""

from __future__ import annotations

from application.webhooks import NEVER_TRIED_LOOKBACK_US, DeliveryKey, Outcome
from infrastructure.database import Database, Row
from infrastructure.read_model_dialects import dialect_of
from projections.model import BIGINT, DOUBLE, TEXT, Table
from projections.webhooks import DELIVERIES, SUBSCRIBERS

KEY = ("subscriber_id", "incident_id", "version")


def state_table(name: str) -> Table:
    return Table(
        name=name,
        columns={"subscriber_id": TEXT, "incident_id": TEXT, "version": BIGINT, "status": TEXT,
                 "attempts": BIGINT, "next_attempt_at": BIGINT, "lease_until": BIGINT,
                 "last_status_code": BIGINT, "last_error": TEXT, "updated_at": BIGINT},
        primary_key=KEY,
        indexes=(("status", "next_attempt_at"),),
    )


def attempts_table(name: str) -> Table:
    return Table(
        name=name,
        columns={"subscriber_id": TEXT, "incident_id": TEXT, "version": BIGINT, "attempt": BIGINT,
                 "attempted_at": BIGINT, "status_code": BIGINT, "error": TEXT, "duration_ms": DOUBLE,
                 "outcome": TEXT},
        primary_key=(*KEY, "attempt"),
    )


STATE, ATTEMPTS = state_table("webhook_delivery_state"), attempts_table("webhook_attempts")
_JOIN = " AND ".join(f"s.{c} = d.{c}" for c in KEY)
_WHERE_KEY = " AND ".join(f"{c} = %s" for c in KEY)


class SqlDeliveryStore:
    """The application's `DeliveryStore`, and the `WebhookLog` the subscribers API reads. One
    per outbox: subscriber webhooks by default; alerts' have their own outbox and state tables."""

    def __init__(self, db: Database, outbox: Table = DELIVERIES, state: Table = STATE,
                 attempts: Table = ATTEMPTS):
        self.db = db
        self.outbox, self.state, self.attempts = outbox, state, attempts

    def create_tables(self) -> None:
        with self.db.transaction() as cur:
            for table in (self.state, self.attempts):
                for statement in dialect_of(self.db).create_statements(table):
                    cur.execute(statement)

    def due(self, now: int, limit: int = 100) -> list[DeliveryKey]:
        """Deliveries never tried (made within NEVER_TRIED_LOOKBACK_US of `now`), or waiting for
        a retry that is due and not claimed; the oldest first. Each half reads an index: the
        outbox's `occurred_at` from the look-back on (each row's state probed by its key), the
        state's (status, next_attempt_at), so a sweep costs a week of deliveries and those
        waiting, not every delivery ever made."""
        fresh = self.db.query(  # a probe of the state's key a row: PostgreSQL would otherwise
            # hash every state row ever written to anti-join a week of the outbox (10x slower)
            f"SELECT d.subscriber_id, d.incident_id, d.version, d.occurred_at "
            f"FROM {self.outbox.name} d WHERE d.occurred_at >= %s AND (SELECT 1 FROM "
            f"{self.state.name} s WHERE {_JOIN} LIMIT 1) IS NULL "
            "ORDER BY d.occurred_at, d.version LIMIT %s",
            [now - NEVER_TRIED_LOOKBACK_US, limit])
        retries = self.db.query(
            f"SELECT d.subscriber_id, d.incident_id, d.version, d.occurred_at "
            f"FROM {self.state.name} s JOIN {self.outbox.name} d ON {_JOIN} "
            "WHERE s.status = 'pending' AND s.next_attempt_at <= %s "
            "AND (s.lease_until IS NULL OR s.lease_until <= %s) "
            "ORDER BY d.occurred_at, d.version LIMIT %s", [now, now, limit])
        rows = sorted(fresh + retries, key=lambda r: (r["occurred_at"], r["version"]))[:limit]
        return [DeliveryKey(r["subscriber_id"], r["incident_id"], int(r["version"])) for r in rows]

    def waiting(self, now: int) -> int:
        """How many deliveries are yet to go out: never tried (within the look-back) or pending a
        retry (metrics; the same indexes as `due`)."""
        fresh = self.db.query(
            f"SELECT COUNT(*) AS n FROM {self.outbox.name} d WHERE d.occurred_at >= %s AND "
            f"(SELECT 1 FROM {self.state.name} s WHERE {_JOIN} LIMIT 1) IS NULL",
            [now - NEVER_TRIED_LOOKBACK_US])
        retrying = self.db.query(
            f"SELECT COUNT(*) AS n FROM {self.state.name} WHERE status = 'pending'")
        return int(fresh[0]["n"]) + int(retrying[0]["n"])

    def claim(self, key: DeliveryKey, now: int, lease_until: int) -> int | None:
        """Take the next attempt of a due delivery until `lease_until`; its number, or None."""
        with self.db.transaction() as cur:
            cur.execute(
                f"INSERT INTO {self.state.name} ({', '.join(KEY)}, status, attempts, next_attempt_at, "
                "lease_until, updated_at) VALUES (%s, %s, %s, 'pending', 1, %s, %s, %s) "
                f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET "
                f"attempts = {self.state.name}.attempts + 1, lease_until = excluded.lease_until, "
                f"updated_at = excluded.updated_at WHERE {self.state.name}.status = 'pending' "
                f"AND {self.state.name}.next_attempt_at <= %s AND ({self.state.name}.lease_until IS NULL "
                f"OR {self.state.name}.lease_until <= %s) RETURNING attempts",
                [*key.values(), now, lease_until, now, now, now])
            row = cur.fetchone()
        return int(row["attempts"]) if row else None

    def delivery(self, key: DeliveryKey) -> Row | None:
        """The outbox row with its dispatch state (status and attempts), or None if unknown."""
        rows = self.db.query(
            f"SELECT d.*, s.status, s.attempts, s.lease_until FROM {self.outbox.name} d "
            f"LEFT JOIN {self.state.name} s ON {_JOIN} "
            f"WHERE {' AND '.join(f'd.{c} = %s' for c in KEY)}", key.values())
        if not rows:
            return None
        row = rows[0]
        row["changes"] = self.db.load_json(row["changes"])
        return row

    def record(self, key: DeliveryKey, attempt: int, outcome: Outcome, now: int) -> None:
        """Keep one attempt and move the delivery to its outcome, releasing the claim."""
        with self.db.transaction() as cur:
            cur.execute(
                f"INSERT INTO {self.attempts.name} ({', '.join(self.attempts.columns)}) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
                f"ON CONFLICT ({', '.join(self.attempts.primary_key)}) DO NOTHING",
                [*key.values(), attempt, now, outcome.status_code, outcome.error,
                 outcome.duration_ms, outcome.status])
            cur.execute(
                f"UPDATE {self.state.name} SET status = %s, next_attempt_at = %s, lease_until = NULL, "
                f"last_status_code = %s, last_error = %s, updated_at = %s WHERE {_WHERE_KEY}",
                [outcome.status, outcome.next_attempt_at, outcome.status_code, outcome.error,
                 now, *key.values()])

    def prune(self, before: int, limit: int) -> int:
        """Delete up to `limit` deliveries of events before `before` that are over (delivered,
        failed, cancelled, or never tried: expired), each with its state and attempts, in one
        transaction; returns how many. Reads the outbox's `occurred_at` index."""
        keys = ", ".join(KEY)
        with self.db.transaction() as cur:
            cur.execute(
                f"SELECT {keys} FROM {self.outbox.name} d WHERE d.occurred_at < %s AND NOT EXISTS "
                f"(SELECT 1 FROM {self.state.name} s WHERE {_JOIN} AND s.status = 'pending') "
                "ORDER BY d.occurred_at LIMIT %s", [before, limit])
            rows = [tuple(row[c] for c in KEY) for row in cur.fetchall()]
            if rows:
                for table in (self.attempts, self.state, self.outbox):
                    cur.executemany(f"DELETE FROM {table.name} WHERE {_WHERE_KEY}", rows)
        return len(rows)

    def subscribers(self, workspace_id: str, page_slug: str) -> list[Row]:
        return self.db.query(
            f"SELECT id, url, created_at FROM {SUBSCRIBERS.name} WHERE workspace_id = %s "
            "AND page_slug = %s AND removed_at IS NULL ORDER BY created_at, id",
            [workspace_id, page_slug])

    def recent_of(self, subscriber_ids: list[str], limit: int = 20) -> dict[str, list[Row]]:
        """Each subscriber's latest deliveries, newest first, each with its attempts oldest
        first: a query each for their deliveries (the latest `limit` by the (subscriber_id,
        occurred_at) index), one for all their attempts."""
        found = {subscriber_id: self.db.query(
            f"SELECT d.subscriber_id, d.incident_id, d.version, d.event_type, d.occurred_at, "
            f"s.status, s.attempts, s.next_attempt_at FROM {self.outbox.name} d "
            f"LEFT JOIN {self.state.name} s ON {_JOIN} WHERE d.subscriber_id = %s "
            "ORDER BY d.occurred_at DESC, d.version DESC LIMIT %s", [subscriber_id, limit])
            for subscriber_id in dict.fromkeys(subscriber_ids)}
        rows = [row for rows in found.values() for row in rows]
        attempts: dict[tuple[str, str, int], list[Row]] = {}
        for start in range(0, len(rows), MAX_KEYS_A_QUERY):
            keys = rows[start:start + MAX_KEYS_A_QUERY]
            for attempt in self.db.query(
                    f"SELECT {', '.join(KEY)}, attempt, attempted_at, status_code, error, "
                    f"duration_ms, outcome FROM {self.attempts.name} WHERE ({', '.join(KEY)}) IN "
                    f"(VALUES {', '.join(['(%s, %s, %s)'] * len(keys))}) ORDER BY attempt",
                    [value for row in keys for value in (row[c] for c in KEY)]):
                key = (attempt.pop("subscriber_id"), attempt.pop("incident_id"),
                       int(attempt.pop("version")))
                attempts.setdefault(key, []).append(attempt)
        for row in rows:
            row["attempt_log"] = attempts.get(
                (row["subscriber_id"], row["incident_id"], int(row["version"])), [])
        return found


MAX_KEYS_A_QUERY = 300  # three parameters each: well under SQLite's 32,766
