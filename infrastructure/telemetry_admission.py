"""An admission while it is open: what the ledger said of its ids, and, on PostgreSQL, its
connection and what it read ahead, which this thread's event store reads and writes use."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore
from psycopg import Connection, Cursor
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow


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


@dataclass(frozen=True)
class ReadAhead:
    """An aggregate's events after `version`, read under the admission's lock."""

    originator_id: UUID
    version: int
    events: list[StoredEvent]

    @classmethod
    def read_back(cls, read_ahead: tuple[UUID, int], ahead: Cursor[DictRow]) -> ReadAhead:
        return cls(*read_ahead, [
            StoredEvent(originator_id=r["originator_id"], originator_version=r["originator_version"],
                        topic=r["topic"], state=bytes(r["state"])) for r in ahead.fetchall()])

    def serves(self, originator_id: UUID | str, gt: int | None) -> bool:
        return originator_id == self.originator_id and gt is not None and gt >= self.version


# The connection of the admission open in this thread, if any.
ADMISSION: ContextVar[Connection[DictRow] | None] = ContextVar("admission", default=None)
# What the admission open in this thread read ahead, if anything.
READ_AHEAD: ContextVar[ReadAhead | None] = ContextVar("read_ahead", default=None)


@contextmanager
def open_in_this_thread(conn: Connection[DictRow] | None,
                        later: ReadAhead | None) -> Iterator[None]:
    """This thread's event store works on `conn` (if any) and reads from `later` (if any)."""
    token, read = ADMISSION.set(conn), READ_AHEAD.set(later)
    try:
        yield
    finally:
        READ_AHEAD.reset(read)
        ADMISSION.reset(token)


@contextmanager
def pinned(conn: Connection[DictRow]) -> Iterator[None]:
    """This thread's event store reads and writes run on `conn` (a held workspace lock's), in
    its transaction; a save commits it, as an admission's does."""
    token = ADMISSION.set(conn)
    try:
        yield
    finally:
        ADMISSION.reset(token)


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
        pinned = ADMISSION.get()
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


@contextmanager
def admission_transaction(conn: Connection[DictRow]) -> Iterator[None]:
    """An admission's transaction, begun by its first statement. The save commits it
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
