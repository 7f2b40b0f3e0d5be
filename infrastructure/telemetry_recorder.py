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

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Connection, Cursor
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from application.admission import QuotaClaim
from infrastructure.advisory_locks import WAIT_SECONDS, ask_for_lock, lock_waits

LEDGER = "telemetry_ledger"
QUOTA_HEADS = "telemetry_quota_heads"


class SQLiteTelemetryRecorder(SQLiteApplicationRecorder):
    serialises_writers = False  # the application's lock queues a workspace's writers
    takes_claims = False  # one writer at a time: the application decides every request

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


@dataclass(frozen=True)
class Claimed:
    """A claim the store took: the request is admitted whole and saved, already committed."""

    used: int  # the quota's count after it
    position: int  # the notification id of the last event saved


@dataclass
class LedgerEntry:
    """What the ledger says of a request's ids while its admission is open."""

    workspace_id: UUID
    ids: list[str]
    new: set[str] | None  # the ids it had not seen; None: it had seen none of them
    forget: Callable[[list[str]], None] | None = None  # PostgreSQL: delete ids recorded already
    claimed: Claimed | None = None  # PostgreSQL: the claim the store took at lock time

    def keep(self, admitted: list[str]) -> dict[str, Any]:
        """Keep only the admitted ids in the ledger; returns the save's keyword arguments."""
        if self.forget is None:  # SQLite: the save inserts them
            return {"ledger": (self.workspace_id, admitted)}
        recorded = self.ids if self.new is None else self.new
        if len(admitted) < len(recorded):
            kept = set(admitted)
            self.forget([i for i in recorded if i not in kept])
        return {}


# The connection of the admission open in this thread, if any.
_ADMISSION: ContextVar[Connection[DictRow] | None] = ContextVar("admission", default=None)


@contextmanager
def pinned(conn: Connection[DictRow]) -> Iterator[None]:
    """This thread's event store reads and writes run on `conn` (a held workspace lock's), in
    its transaction; a save commits it, as an admission's does."""
    token = _ADMISSION.set(conn)
    try:
        yield
    finally:
        _ADMISSION.reset(token)


@dataclass(frozen=True)
class ReadAhead:
    """An aggregate's events after `version`, read under the admission's lock."""

    originator_id: UUID
    version: int
    events: list[StoredEvent]

    def serves(self, originator_id: UUID | str, gt: int | None) -> bool:
        return originator_id == self.originator_id and gt is not None and gt >= self.version


# What the admission open in this thread read ahead, if anything.
_READ_AHEAD: ContextVar[ReadAhead | None] = ContextVar("read_ahead", default=None)


class AdmissionAwareDatastore:
    """The library's datastore, except that inside an admission this thread's event store reads
    and writes run on the admission's connection, so in its transaction (a save's own
    transaction becomes a savepoint there)."""

    def __init__(self, datastore: PostgresDatastore):
        self.inner = datastore

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @contextmanager
    def get_connection(self) -> Iterator[Connection[DictRow]]:
        pinned = _ADMISSION.get()
        if pinned is not None:
            yield pinned
            return
        with self.inner.get_connection() as conn:
            yield conn

    @contextmanager
    def transaction(self, *, commit: bool = False) -> Iterator[Cursor[DictRow]]:
        with self.get_connection() as conn, conn.transaction(force_rollback=not commit):
            yield conn.cursor()

    @contextmanager
    def cursor(self) -> Iterator[Cursor[DictRow]]:
        with self.get_connection() as conn:
            yield conn.cursor()


class PostgresTelemetryRecorder(PostgresApplicationRecorder):
    serialises_writers = True  # the admission's advisory lock queues them, in every process
    takes_claims = True  # the database decides a claim at lock time

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events",
                 wait_seconds: int = WAIT_SECONDS):
        self.pool_datastore: PostgresDatastore = datastore  # connections of the pool itself
        super().__init__(cast(PostgresDatastore, AdmissionAwareDatastore(datastore)),
                         events_table_name=events_table_name)
        self.ledger = Identifier(self.datastore.schema, LEDGER)
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {} (workspace_id uuid NOT NULL, event_id uuid NOT NULL, "
            "PRIMARY KEY (workspace_id, event_id))").format(self.ledger))
        self.events_table = Identifier(self.datastore.schema, self.events_table_name)
        self.wait_seconds = wait_seconds
        # Event ids are always UUIDs (validated, or made by the server), so one comma-joined
        # string beats a uuid[] to dump.
        self._record_all = SQL("INSERT INTO {} (workspace_id, event_id) SELECT %s, "
                               "unnest(string_to_array(%s, ',')::uuid[])").format(self.ledger)
        # After a conflict: the ids not inserted are the ones the ledger had (an id another
        # request has in flight waits for it); the inserted ones are listed if some were not.
        self._record_new = SQL(
            "WITH new AS ({} ON CONFLICT DO NOTHING RETURNING event_id) "
            "SELECT CASE WHEN count(*) < %s THEN coalesce(string_agg(event_id::text, ','), '') "
            "END AS new FROM new").format(self._record_all)
        # The library's read of an aggregate's events after a version (its `select_events`).
        self._read_ahead = self.select_events_statement + SQL(
            " AND originator_version > %s ORDER BY originator_version ASC")
        self._forget = SQL("DELETE FROM {} WHERE workspace_id = %s "
                           "AND event_id = ANY(string_to_array(%s, ',')::uuid[])").format(self.ledger)
        # Each quota's last saved version and its count, saved with every decision that knows
        # them: what a claim is checked against (docs/decisions/quota-claims.md).
        self.quota_heads = Identifier(self.datastore.schema, QUOTA_HEADS)
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {} (quota_id uuid PRIMARY KEY, version bigint NOT NULL, "
            "used bigint NOT NULL)").format(self.quota_heads))
        self._save_head = SQL(
            "INSERT INTO {0} AS head (quota_id, version, used) VALUES (%s, %s, %s) "
            "ON CONFLICT (quota_id) DO UPDATE SET version = excluded.version, used = excluded.used "
            "WHERE head.version < excluded.version").format(self.quota_heads)
        # A claim: the quota's decision saved as its next version only if its head is its last
        # saved version and leaves room. Otherwise the version is NULL, the insert fails the
        # column's NOT NULL, and the whole transaction with it (`_claim_at_lock`).
        self._claim = SQL(
            "WITH claim AS (UPDATE {heads} AS head SET version = head.version + 1, "
            "used = head.used + %(requested)s WHERE head.quota_id = %(quota)s "
            "AND head.used + %(requested)s <= %(limit)s AND head.version = "
            "(SELECT max(originator_version) FROM {events} WHERE originator_id = head.quota_id) "
            "RETURNING head.version, head.used) "
            "INSERT INTO {events} (originator_id, originator_version, topic, state) VALUES "
            "(%(quota)s, (SELECT version FROM claim), %(decision_topic)s, %(decision_state)b), "
            "(%(batch_id)s, %(batch_version)s, %(batch_topic)s, %(batch_state)b) "
            "RETURNING notification_id, (SELECT used FROM claim) AS used").format(
                heads=self.quota_heads, events=self.events_table)

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
        with self.pool_datastore.get_connection() as conn, self._transaction(conn):
            taken = None if claim is None or retried else \
                self._claim_at_lock(conn, workspace_id, ids, claim, read_ahead)
            if taken is not None:  # committed: what it read ahead serves this thread's reads,
                claimed, later = taken  # and its other reads reuse this idle connection (a
                # second one from the pool could wait for ever on a pool of BEACON_DB_POOL_SIZE)
                token, read = _ADMISSION.set(conn), _READ_AHEAD.set(later)
                try:
                    yield LedgerEntry(workspace_id, ids, None, claimed=claimed)
                finally:
                    _READ_AHEAD.reset(read)
                    _ADMISSION.reset(token)
                return
            with lock_waits(self.wait_seconds), conn.cursor() as recorded, conn.cursor() as lock, \
                    conn.cursor() as ahead:
                with conn.pipeline():  # one round trip: the lock is asked for once recorded
                    self._record_then_lock(recorded, lock, workspace_id, ids, retried=retried)
                    if read_ahead is not None:  # runs once the lock is held: nothing newer to miss
                        ahead.execute(self._read_ahead, list(read_ahead), prepare=False)
                row = recorded.fetchone() if retried else None
                later = None if read_ahead is None else self._read_back(read_ahead, ahead)
            new = None if row is None or row["new"] is None else \
                set(filter(None, row["new"].split(",")))

            def forget(refused: list[str]) -> None:
                conn.execute(self._forget, [workspace_id, ",".join(sorted(refused))], prepare=False)

            entry = LedgerEntry(workspace_id, ids, new, forget)
            token, read = _ADMISSION.set(conn), _READ_AHEAD.set(later)
            try:
                yield entry
            finally:
                _READ_AHEAD.reset(read)
                _ADMISSION.reset(token)

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
                    saved.execute(self._claim, {
                        "quota": claim.quota_id, "requested": claim.requested,
                        "limit": claim.limit, "decision_topic": decision.topic,
                        "decision_state": decision.state, "batch_id": batch.originator_id,
                        "batch_version": batch.originator_version, "batch_topic": batch.topic,
                        "batch_state": batch.state}, prepare=False)
                    if read_ahead is not None:
                        ahead.execute(self._read_ahead, list(read_ahead), prepare=False)
                    commit.execute("COMMIT", prepare=False)
                rows = saved.fetchall()
                later = None if read_ahead is None else self._read_back(read_ahead, ahead)
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
            recorded.execute(self._record_new, [workspace_id, joined, len(ids)], prepare=False)
        else:
            recorded.execute(self._record_all, [workspace_id, joined], prepare=False)
        ask_for_lock(lock, workspace_id, self.wait_seconds)

    @staticmethod
    def _read_back(read_ahead: tuple[UUID, int], ahead: Cursor[DictRow]) -> ReadAhead:
        return ReadAhead(*read_ahead, [
            StoredEvent(originator_id=r["originator_id"], originator_version=r["originator_version"],
                        topic=r["topic"], state=bytes(r["state"])) for r in ahead.fetchall()])

    def _lock_and_notify(self, curs: Cursor[DictRow]) -> None:
        """The library's table lock and notification before an insert of stored events."""
        for statement in self.lock_table_statements:
            curs.execute(statement, prepare=False)
        curs.execute(SQL("NOTIFY {}").format(Identifier(self.channel_name)), prepare=False)

    @staticmethod
    @contextmanager
    def _transaction(conn: Connection[DictRow]) -> Iterator[None]:
        """The admission's transaction, begun by its first statement. The save commits it
        (`insert_events`); one that saved nothing commits here, and one that fails rolls back.
        Not psycopg's `transaction()`: that one's COMMIT would cost a round trip of its own."""
        try:
            yield
        except BaseException:
            if conn.info.transaction_status != TransactionStatus.IDLE:
                with suppress(psycopg.Error):  # a broken connection: the pool discards it
                    conn.execute("ROLLBACK")
            raise
        if conn.info.transaction_status != TransactionStatus.IDLE:
            conn.execute("COMMIT")

    def select_events(self, originator_id: UUID | str, *, gt: int | None = None,
                      lte: int | None = None, desc: bool = False,
                      limit: int | None = None) -> Sequence[StoredEvent]:
        """The library's read, unless the admission open in this thread read these ahead."""
        later = _READ_AHEAD.get()
        if later is not None and lte is None and not desc and limit is None and \
                later.serves(originator_id, gt):
            return [e for e in later.events if e.originator_version > cast(int, gt)]
        return super().select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)

    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        """Inside an admission, its save, which is its last write: the library's statements
        and the admission's COMMIT in one round trip on its connection (no savepoint: a failure
        rolls the whole admission back anyway). An admission saves once."""
        conn = _ADMISSION.get()
        if conn is None or not stored_events:
            return super().insert_events(stored_events, **kwargs)
        _ADMISSION.set(None)  # committed below: nothing more belongs to the admission,
        _READ_AHEAD.set(None)  # nor is what it read ahead all there is after this save
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
            curs.execute(self._save_head, list(head), prepare=False)

    def seen(self, workspace_id: UUID, event_ids: list[str]) -> set[str]:
        """The ids among `event_ids` this workspace already has."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT event_id::text FROM {} WHERE workspace_id = %s "
                             "AND event_id = ANY(string_to_array(%s, ',')::uuid[])").format(self.ledger),
                         [workspace_id, ",".join(event_ids)])
            return {row["event_id"] for row in curs.fetchall()}
