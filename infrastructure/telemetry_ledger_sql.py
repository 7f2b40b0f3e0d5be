"""The PostgreSQL statements of the dedupe ledger and the quotas' heads (what claims are
checked against: docs/decisions/quota-claims.md)."""

from __future__ import annotations

from psycopg.sql import SQL, Composable, Identifier

LEDGER = "telemetry_ledger"
QUOTA_HEADS = "telemetry_quota_heads"


class LedgerStatements:
    """The statements for a schema's ledger, heads and events table; `select_events` is the
    library's read of an aggregate's events."""

    def __init__(self, schema: str, events_table: Identifier, select_events: Composable):
        self.ledger = Identifier(schema, LEDGER)
        self.quota_heads = Identifier(schema, QUOTA_HEADS)
        self.create = [
            SQL("CREATE TABLE IF NOT EXISTS {} (workspace_id uuid NOT NULL, event_id uuid NOT NULL, "
                "PRIMARY KEY (workspace_id, event_id))").format(self.ledger),
            # Each quota's last saved version and its count, saved with every decision that
            # knows them.
            SQL("CREATE TABLE IF NOT EXISTS {} (quota_id uuid PRIMARY KEY, version bigint NOT NULL, "
                "used bigint NOT NULL)").format(self.quota_heads),
        ]
        # Event ids are always UUIDs (validated, or made by the server), so one comma-joined
        # string beats a uuid[] to dump.
        self.record_all = SQL("INSERT INTO {} (workspace_id, event_id) SELECT %s, "
                              "unnest(string_to_array(%s, ',')::uuid[])").format(self.ledger)
        # After a conflict: the ids not inserted are the ones the ledger had (an id another
        # request has in flight waits for it); the inserted ones are listed if some were not.
        self.record_new = SQL(
            "WITH new AS ({} ON CONFLICT DO NOTHING RETURNING event_id) "
            "SELECT CASE WHEN count(*) < %s THEN coalesce(string_agg(event_id::text, ','), '') "
            "END AS new FROM new").format(self.record_all)
        self.forget = SQL("DELETE FROM {} WHERE workspace_id = %s "
                          "AND event_id = ANY(string_to_array(%s, ',')::uuid[])").format(self.ledger)
        self.seen = SQL("SELECT event_id::text FROM {} WHERE workspace_id = %s "
                        "AND event_id = ANY(string_to_array(%s, ',')::uuid[])").format(self.ledger)
        # The library's read of an aggregate's events after a version.
        self.read_ahead = select_events + SQL(
            " AND originator_version > %s ORDER BY originator_version ASC")
        self.save_head = SQL(
            "INSERT INTO {0} AS head (quota_id, version, used) VALUES (%s, %s, %s) "
            "ON CONFLICT (quota_id) DO UPDATE SET version = excluded.version, used = excluded.used "
            "WHERE head.version < excluded.version").format(self.quota_heads)
        # A claim: the quota's decision saved as its next version only if its head is its last
        # saved version and leaves room (domain/quota.py `has_room`, repeated here). Otherwise
        # the version is NULL, the insert fails the column's NOT NULL, and the whole transaction
        # with it.
        self.claim = SQL(
            "WITH claim AS (UPDATE {heads} AS head SET version = head.version + 1, "
            "used = head.used + %(requested)s WHERE head.quota_id = %(quota)s "
            "AND %(requested)s <= GREATEST(%(limit)s - head.used, 0) AND head.version = "
            "(SELECT max(originator_version) FROM {events} WHERE originator_id = head.quota_id) "
            "RETURNING head.version, head.used) "
            "INSERT INTO {events} (originator_id, originator_version, topic, state) VALUES "
            "(%(quota)s, (SELECT version FROM claim), %(decision_topic)s, %(decision_state)b), "
            "(%(batch_id)s, %(batch_version)s, %(batch_topic)s, %(batch_state)b) "
            "RETURNING notification_id, (SELECT used FROM claim) AS used").format(
                heads=self.quota_heads, events=events_table)
