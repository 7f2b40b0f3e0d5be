"""Telemetry's application recorders: the event store plus the dedupe ledger, in one transaction.

DESIGN.md decision 3. `save(..., ledger=(workspace_id, event_ids))` reaches the recorder's insert
hook, which inserts the ledger rows in the same transaction as the stored events: an event id some
other request already recorded violates the ledger's primary key, the whole transaction rolls back,
and the command is retried (and then sees the id as a duplicate). Nothing is ever counted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

LEDGER = "telemetry_ledger"


class SQLiteTelemetryRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(),
                f"CREATE TABLE IF NOT EXISTS {LEDGER} (workspace_id TEXT NOT NULL, "
                "event_id TEXT NOT NULL, PRIMARY KEY (workspace_id, event_id)) WITHOUT ROWID"]

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> Sequence[int] | None:
        ledger = kwargs.get("ledger")
        if ledger and ledger[1]:
            workspace = str(ledger[0])
            c.executemany(f"INSERT INTO {LEDGER} (workspace_id, event_id) VALUES (?, ?)",
                          [(workspace, event_id) for event_id in sorted(ledger[1])])
        return super()._insert_events(c, stored_events, **kwargs)

    def seen(self, workspace_id: UUID, event_ids: list[str]) -> set[str]:
        """The ids among `event_ids` this workspace already has."""
        found: set[str] = set()
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(event_ids), 500):
                chunk = event_ids[start:start + 500]
                c.execute(f"SELECT event_id FROM {LEDGER} WHERE workspace_id = ? AND event_id IN "
                          f"({', '.join('?' * len(chunk))})", [str(workspace_id), *chunk])
                found.update(row["event_id"] for row in c.fetchall())
        return found


class PostgresTelemetryRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self.ledger = Identifier(self.datastore.schema, LEDGER)
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {} (workspace_id uuid NOT NULL, event_id uuid NOT NULL, "
            "PRIMARY KEY (workspace_id, event_id))").format(self.ledger))
        self.events_table = Identifier(self.datastore.schema, self.events_table_name)

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> None:
        ledger = kwargs.get("ledger")
        if ledger and ledger[1]:
            # One order for every writer (no deadlocks between batches). Event ids are always UUIDs
            # (validated, or made by the server), so one comma-joined string beats a text[] to dump.
            ids = ",".join(sorted(ledger[1]))
            curs.execute(SQL("INSERT INTO {} (workspace_id, event_id) "
                             "SELECT %s, unnest(string_to_array(%s, ',')::uuid[])").format(self.ledger),
                         [ledger[0], ids], prepare=False)
        super()._insert_events(curs, stored_events, **kwargs)

    def _insert_stored_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent],
                              **kwargs: Any) -> None:
        """The library's lock, notify and insert, with the state sent as a binary parameter (the
        library's array of composite values is dumped as text, which hex-encodes a batch's state
        in Python).

        None of these is prepared: in a pipeline, statements queued after a failed ledger insert
        (an expected conflict, retried) are skipped by the server, and psycopg would take one it
        meant to prepare there as prepared ("prepared statement _pg3_N does not exist" next time).
        """
        for statement in self.lock_table_statements:
            curs.execute(statement, prepare=False)
        curs.execute(SQL("NOTIFY {}").format(Identifier(self.channel_name)), prepare=False)
        rows = SQL(", ").join([SQL("(%s, %s, %s, %b)")] * len(stored_events))
        curs.execute(SQL("INSERT INTO {} (originator_id, originator_version, topic, state) VALUES {} "
                         "RETURNING notification_id").format(self.events_table, rows),
                     [value for e in stored_events
                      for value in (e.originator_id, e.originator_version, e.topic, e.state)],
                     prepare=False)

    def seen(self, workspace_id: UUID, event_ids: list[str]) -> set[str]:
        """The ids among `event_ids` this workspace already has."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT event_id::text FROM {} WHERE workspace_id = %s "
                             "AND event_id = ANY(string_to_array(%s, ',')::uuid[])").format(self.ledger),
                         [workspace_id, ",".join(event_ids)])
            return {row["event_id"] for row in curs.fetchall()}
