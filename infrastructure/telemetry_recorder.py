"""Telemetry's application recorders: the event store plus the dedupe ledger, in one transaction.

DESIGN.md decision 3, and docs/decisions/ledger-before-the-lock.md. A request's admission opens
with `admission(workspace_id, event_ids)`, which says which of the ids the ledger has not seen;
the quota decision is taken inside it and saved with `save(..., **entry.keep(admitted))`, so the
batch, its ledger rows and the decision commit together or not at all. Nothing is counted twice.

- PostgreSQL: the admission is one transaction. It first inserts every id into the ledger (a
  plain insert, which an id the ledger has makes fail and roll back; the retry inserts with
  `ON CONFLICT DO NOTHING`, and the ids not inserted are the duplicates; an id another request
  has in flight waits for it), and only then takes the workspace's advisory lock, which
  queues the writers of one workspace across threads and processes until commit. The ledger's
  index inserts, most of a batch's cost in the database, so run side by side for concurrent
  requests; under the lock are only the quota's decision and the save. A first attempt sends
  its decision along as a claim (all of its events admitted), and the database takes it at
  lock time when the quota's head (its last saved version and count, `telemetry_quota_heads`,
  saved with every decision) leaves room: ids, lock, claim, batch and commit are one round
  trip, and nothing under the lock waits for this process (docs/decisions/quota-claims.md).
  A claim refused rolls back, and the admission goes on the way it did before claims: the
  quota's read is asked for in the same round trip as the lock (`read_ahead`: its events newer
  than the version this process has cached), the quota decides here, and refused ids are
  deleted again before commit. Inside an admission, this thread's reads and writes of the
  event store run on the admission's connection, in its transaction.
- SQLite: one writer at a time anyway. The application serialises the workspace's writers; the
  admission reads which ids the ledger has, and the save inserts the admitted ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Connection, Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from application.base import ProcessLocalLocks
from application.ledger import QuotaClaim
from infrastructure.advisory_locks import WAIT_SECONDS, PostgresAdvisoryLocks, ask_for_lock, lock_waits
from infrastructure.telemetry_admission import (
    ADMISSION,
    READ_AHEAD,
    AdmissionAwareDatastore,
    Claimed,
    LedgerEntry,
    ReadAhead,
    admission_transaction,
    open_in_this_thread,
    pinned,
)
from infrastructure.telemetry_ledger_sql import LEDGER, LedgerStatements


class SQLiteTelemetryRecorder(SQLiteApplicationRecorder):
    serialises_writers = False  # the application's lock queues a workspace's writers
    takes_claims = False  # one writer at a time: the application decides every request

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace_locks = ProcessLocalLocks()  # one process writes a SQLite file

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(),
                f"CREATE TABLE IF NOT EXISTS {LEDGER} (workspace_id TEXT NOT NULL, "
                "event_id TEXT NOT NULL, PRIMARY KEY (workspace_id, event_id)) WITHOUT ROWID"]

    @contextmanager
    def admission(self, workspace_id: UUID, event_ids: list[str], *, retried: bool = False,
                  read_ahead: tuple[UUID, int] | None = None,
                  claim: QuotaClaim | None = None) -> Iterator[LedgerEntry]:
        # One writer at a time: nothing to read ahead, and no claim (the application decides).
        known = self.seen(workspace_id, event_ids)
        yield LedgerEntry(workspace_id, event_ids,
                          {i for i in event_ids if i not in known} if known else None)

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
    serialises_writers = True  # the admission's advisory lock queues them, in every process
    takes_claims = True  # the database decides a claim at lock time

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events",
                 wait_seconds: int = WAIT_SECONDS):
        self.pool_datastore: PostgresDatastore = datastore  # connections of the pool itself
        super().__init__(cast(PostgresDatastore, AdmissionAwareDatastore(datastore)),
                         events_table_name=events_table_name)
        self.events_table = Identifier(self.datastore.schema, self.events_table_name)
        self.sql = LedgerStatements(self.datastore.schema, self.events_table,
                                    self.select_events_statement)
        self.sql_create_statements.extend(self.sql.create)
        self.wait_seconds = wait_seconds
        # Exception reports queue on the lock an admission takes, in every process; its holders
        # save on its connection.
        self.workspace_locks = PostgresAdvisoryLocks(datastore, wait_seconds, pin=pinned)

    @contextmanager
    def admission(self, workspace_id: UUID, event_ids: list[str], *, retried: bool = False,
                  read_ahead: tuple[UUID, int] | None = None,
                  claim: QuotaClaim | None = None) -> Iterator[LedgerEntry]:
        """Record the ids, then hold the workspace's lock until the transaction ends (see the
        module's docstring). Ids go in one order for every writer: no deadlocks between
        requests that share some. With `read_ahead` (an aggregate's id and a version), that
        aggregate's later events are read once the lock is held, in the same round trip, and
        this thread's `select_events` of them inside the admission is answered from that.

        With a `claim`, a first attempt is all one round trip: the ids, the lock, the claim's
        decision and batch, the commit. If the store took it, the entry says so (`claimed`) and
        the admission is over; if it did not (the quota had no room, or its head was not its
        last version), everything rolled back and the admission goes on as without a claim.

        A first attempt takes the ids to be new, as nearly all are: a plain insert costs the
        database a third less than one that checks each id for a conflict first, and an id the
        ledger has raises a conflict, which rolls everything back; the `retried` attempt then
        sorts such ids out as duplicates."""
        ids = sorted(event_ids)
        with self.pool_datastore.get_connection() as conn, admission_transaction(conn):
            taken = None if claim is None or retried else \
                self._claim_at_lock(conn, workspace_id, ids, claim, read_ahead)
            if taken is not None:  # committed: what it read ahead serves this thread's reads,
                claimed, later = taken  # and its other reads reuse this idle connection (a
                # second one from the pool could wait for ever on a pool of BEACON_DB_POOL_SIZE)
                with open_in_this_thread(conn, later):
                    yield LedgerEntry(workspace_id, ids, None, claimed=claimed)
                return
            with lock_waits(self.wait_seconds), conn.cursor() as recorded, conn.cursor() as lock, \
                    conn.cursor() as ahead:
                with conn.pipeline():  # one round trip: the lock is asked for once recorded
                    self._record_then_lock(recorded, lock, workspace_id, ids, retried=retried)
                    if read_ahead is not None:  # runs once the lock is held: nothing newer to miss
                        ahead.execute(self.sql.read_ahead, list(read_ahead), prepare=False)
                row = recorded.fetchone() if retried else None
                later = None if read_ahead is None else ReadAhead.read_back(read_ahead, ahead)
            new = None if row is None or row["new"] is None else \
                set(filter(None, row["new"].split(",")))

            def forget(refused: list[str]) -> None:
                conn.execute(self.sql.forget, [workspace_id, ",".join(sorted(refused))], prepare=False)

            with open_in_this_thread(conn, later):
                yield LedgerEntry(workspace_id, ids, new, forget)

    def _claim_at_lock(self, conn: Connection[DictRow], workspace_id: UUID, ids: list[str],
                       claim: QuotaClaim, read_ahead: tuple[UUID, int] | None
                       ) -> tuple[Claimed, ReadAhead | None] | None:
        """The ids, the lock, the claim and the commit in one round trip: the database decides
        at lock time, and the writers queued behind wait for no round trip to this process.
        With `read_ahead`, the quota's events after that version, the claim's own included,
        come back too: this process's copy of the quota follows it outside the lock.
        None, with nothing written, when the claim was refused."""
        decision, batch = claim.decision, claim.batch
        try:
            with lock_waits(self.wait_seconds), conn.cursor() as recorded, \
                    conn.cursor() as lock, conn.cursor() as saved, conn.cursor() as ahead, \
                    conn.cursor() as commit:
                with conn.pipeline():
                    self._record_then_lock(recorded, lock, workspace_id, ids, retried=False)
                    self._lock_and_notify(saved)
                    saved.execute(self.sql.claim, {
                        "quota": claim.quota_id, "requested": claim.requested,
                        "limit": claim.limit, "decision_topic": decision.topic,
                        "decision_state": decision.state, "batch_id": batch.originator_id,
                        "batch_version": batch.originator_version, "batch_topic": batch.topic,
                        "batch_state": batch.state}, prepare=False)
                    if read_ahead is not None:
                        ahead.execute(self.sql.read_ahead, list(read_ahead), prepare=False)
                    commit.execute("COMMIT", prepare=False)
                rows = saved.fetchall()
                later = None if read_ahead is None else ReadAhead.read_back(read_ahead, ahead)
        except psycopg.errors.NotNullViolation as error:
            if error.diag.column_name != "originator_version":
                raise
            conn.execute("ROLLBACK")
            return None
        claimed = Claimed(used=rows[0]["used"], position=max(r["notification_id"] for r in rows))
        return claimed, later

    def _record_then_lock(self, recorded: Cursor[DictRow], lock: Cursor[DictRow],
                          workspace_id: UUID, ids: list[str], *, retried: bool) -> None:
        """An admission's first statements: its transaction, its ids into the ledger (sorting
        out the ones it has, on a `retried` attempt), then the workspace's lock."""
        recorded.execute("BEGIN", prepare=False)
        joined = ",".join(ids)
        if retried:
            recorded.execute(self.sql.record_new, [workspace_id, joined, len(ids)], prepare=False)
        else:
            recorded.execute(self.sql.record_all, [workspace_id, joined], prepare=False)
        ask_for_lock(lock, workspace_id, self.wait_seconds)

    def _lock_and_notify(self, curs: Cursor[DictRow]) -> None:
        """The library's table lock and notification before an insert of stored events."""
        for statement in self.lock_table_statements:
            curs.execute(statement, prepare=False)
        curs.execute(SQL("NOTIFY {}").format(Identifier(self.channel_name)), prepare=False)

    def select_events(self, originator_id: UUID | str, *, gt: int | None = None,
                      lte: int | None = None, desc: bool = False,
                      limit: int | None = None) -> Sequence[StoredEvent]:
        """The library's read, unless the admission open in this thread read these ahead."""
        later = READ_AHEAD.get()
        if later is not None and lte is None and not desc and limit is None and \
                later.serves(originator_id, gt):
            return [e for e in later.events if e.originator_version > cast(int, gt)]
        return super().select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)

    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        """Inside an admission, its save, which is its last write: the library's statements
        and the admission's COMMIT in one round trip on its connection (no savepoint: a failure
        rolls the whole admission back anyway). An admission saves once."""
        conn = ADMISSION.get()
        if conn is None or not stored_events:
            return super().insert_events(stored_events, **kwargs)
        ADMISSION.set(None)  # committed below: nothing more belongs to the admission,
        READ_AHEAD.set(None)  # nor is what it read ahead all there is after this save
        failed: Exception | None = None
        with conn.pipeline() as pipeline, conn.cursor() as curs, conn.cursor() as commit:
            try:
                self._insert_events(curs, stored_events, **kwargs)
                self._insert_stored_events(curs, stored_events, **kwargs)
                commit.execute("COMMIT", prepare=False)
                pipeline.sync()
                ids = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
            except Exception as error:  # raised after the pipeline ends, as the library does
                failed = error
        if failed is not None:
            raise failed
        return ids

    def _insert_stored_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent],
                              **kwargs: Any) -> None:
        """The library's lock, notify and insert, with the state sent as a binary parameter (the
        library's array of composite values is dumped as text, which hex-encodes a batch's state
        in Python). None of these is prepared: in a pipeline, statements queued after a failed
        one are skipped by the server, and psycopg would take one it meant to prepare there as
        prepared ("prepared statement _pg3_N does not exist" next time)."""
        self._lock_and_notify(curs)
        rows = SQL(", ").join([SQL("(%s, %s, %s, %b)")] * len(stored_events))
        curs.execute(SQL("INSERT INTO {} (originator_id, originator_version, topic, state) VALUES {} "
                         "RETURNING notification_id").format(self.events_table, rows),
                     [value for e in stored_events
                      for value in (e.originator_id, e.originator_version, e.topic, e.state)],
                     prepare=False)

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> None:
        """Before the library's insert, in its transaction: a quota decision's head, if the
        save says what it is (`quota_head`: the quota's id, version and count)."""
        head = kwargs.get("quota_head")
        if head is not None:
            curs.execute(self.sql.save_head, list(head), prepare=False)

    def seen(self, workspace_id: UUID, event_ids: list[str]) -> set[str]:
        """The ids among `event_ids` this workspace already has."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.sql.seen, [workspace_id, ",".join(event_ids)])
            return {row["event_id"] for row in curs.fetchall()}
