"""Read-model tables on either backend: their tracking position, guarded page writes, the rebuild swap.

Each projection's tables carry an optional suffix: the live tables have none, a rebuild writes into
`<table>__rebuild` and is swapped in within one transaction. The tracking row of a projection is
written in the same transaction as its rows, after checking that nobody else moved it: that check is
what makes a page exactly-once even with two runners, or a runner racing a rebuild's swap.
The backend's SQL is its `ReadModelDialect`'s; a page's steps are planned (`Planner`) and written
(`PageWriter`) in modules of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from infrastructure.database import Cursor, Database
from infrastructure.read_model_dialects import dialect_of, index_name
from infrastructure.read_model_plans import Plan, Planner
from infrastructure.read_model_writes import PageWriter
from projections.model import Op, Projection

TRACKING = "rm_tracking"
# A projection whose pages fail, one row while it does: what operators see of it (the runner keeps
# retrying; the log shows every traceback).
FAILURES = "rm_projection_failures"
REBUILD = "__rebuild"  # the suffix of a rebuild's tables


@dataclass(frozen=True)
class Failure:
    """A projection failing: since when (µs since the epoch), how many tries in a row, at which
    position it stood, and the last error (its type and message)."""

    since: int
    failures: int
    position: int
    error: str


class ReadModelStore:
    """The tables and tracking position of one projection, live or being rebuilt.

    With `deferred_keys` (a rebuild on PostgreSQL), tables that insert each key once are loaded
    without their primary key, which is built after the load like the other indexes."""

    def __init__(self, db: Database, projection: Projection, suffix: str = "", *,
                 deferred_keys: bool = False):
        self.db = db
        self.projection = projection
        self.suffix = suffix
        self.tracking_name = projection.name + suffix
        self.dialect = dialect_of(db)
        tables = {t.name: t for t in projection.tables}
        self._deferred = {t.name for t in projection.tables
                          if deferred_keys and t.keys_once and self.dialect.defers_keys}
        self._planner = Planner(tables, self.dialect, self._deferred)
        self._writer = PageWriter(db, self.dialect, tables, suffix, fresh=suffix == REBUILD)

    def create_tables(self, *, indexes: bool = True) -> None:
        """Create the tables (a rebuild adds secondary indexes only after loading)."""
        with self.db.transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {TRACKING} "
                        "(name TEXT PRIMARY KEY, position BIGINT NOT NULL)")
            cur.execute(f"CREATE TABLE IF NOT EXISTS {FAILURES} (name TEXT PRIMARY KEY, "
                        "since BIGINT NOT NULL, failures BIGINT NOT NULL, "
                        "position BIGINT NOT NULL, error TEXT NOT NULL)")
            for table in self.projection.tables:
                name = table.name + self.suffix
                statements = self.dialect.create_statements(table, self.suffix,
                                                            key=table.name not in self._deferred)
                cur.execute(statements[0])
                self.dialect.settle_columns(cur, table, name, indexes=indexes)
                if indexes:
                    for statement in statements[1:]:
                        cur.execute(statement)
                    for cols in table.retired_indexes:
                        cur.execute(f"DROP INDEX IF EXISTS {index_name(name, cols)}")
            cur.execute(f"INSERT INTO {TRACKING} (name, position) VALUES (%s, 0) "
                        "ON CONFLICT (name) DO NOTHING", [self.tracking_name])

    def create_indexes(self) -> None:
        """Build the deferred primary keys and the secondary indexes of loaded tables; raises
        DuplicateKeyError when a deferred key is not unique after all."""
        self.dialect.build_indexes(self.db, self.projection.tables, self.suffix, self._deferred)

    def vacuum(self) -> None:
        """After a bulk load: set what autovacuum would before anyone reads the tables."""
        self.dialect.vacuum(self.db, [t.name + self.suffix for t in self.projection.tables])

    def position(self) -> int:
        rows = self.db.query(f"SELECT position FROM {TRACKING} WHERE name = %s",
                             [self.tracking_name])
        return int(rows[0]["position"]) if rows else 0

    def failure(self) -> Failure | None:
        """The projection's failure while its pages fail, else None."""
        rows = self.db.query(f"SELECT since, failures, position, error FROM {FAILURES} "
                             "WHERE name = %s", [self.tracking_name])
        return Failure(**rows[0]) if rows else None

    def record_failure(self, error: str, now: int) -> None:
        """One more failed try, at `now` (µs since the epoch), with this error."""
        position = self.position()
        with self.db.transaction() as cur:
            cur.execute(f"INSERT INTO {FAILURES} (name, since, failures, position, error) "
                        "VALUES (%s, %s, 1, %s, %s) ON CONFLICT (name) DO UPDATE SET "
                        f"failures = {FAILURES}.failures + 1, position = excluded.position, "
                        "error = excluded.error", [self.tracking_name, now, position, error])

    def clear_failure(self) -> None:
        with self.db.transaction() as cur:
            cur.execute(f"DELETE FROM {FAILURES} WHERE name = %s", [self.tracking_name])

    def apply(self, ops: Iterable[Op] | Plan, *, expected: int, position: int) -> bool:
        """Write a page's rows and move tracking to `position`, only if it is still at `expected`."""
        with self.db.transaction() as cur:
            if self._locked_position(cur, self.tracking_name) != expected:
                return False
            self.write(cur, ops)
            cur.execute(f"UPDATE {TRACKING} SET position = %s WHERE name = %s",
                        [position, self.tracking_name])
        return True

    def write_alone(self, plan: Plan) -> None:
        """Write an order-free plan in a transaction of its own, leaving tracking to the caller
        (a rebuild, whose tables nobody reads before the swap and which starts over if it fails)."""
        with self.db.transaction() as cur:
            self.write(cur, plan)

    def write(self, cur: Cursor, ops: Iterable[Op] | Plan) -> None:
        """Apply operations in order (see `plan`)."""
        self._writer.write(cur, ops if isinstance(ops, Plan) else self.plan(ops))

    def plan(self, ops: Iterable[Op]) -> Plan:
        """The steps a page's operations become, prepared without touching the database."""
        return self._planner.plan(ops)

    def _locked_position(self, cur: Cursor, name: str) -> int:
        cur.execute(f"SELECT position FROM {TRACKING} WHERE name = %s{self.dialect.lock_row}",
                    [name])
        row = cur.fetchone()
        return int(row["position"]) if row else 0

    def drop(self) -> None:
        with self.db.transaction() as cur:
            for table in self.projection.tables:
                cur.execute(f"DROP TABLE IF EXISTS {table.name + self.suffix}")
            cur.execute(f"DELETE FROM {TRACKING} WHERE name = %s", [self.tracking_name])

    def swap_into(self, live: ReadModelStore, catch_up: Callable[[Cursor, int], int]) -> int:
        """Replace the live tables with these rebuilt ones, atomically.

        `catch_up(cursor, position)` writes whatever arrived since this store's position into
        these tables within the swap's transaction and returns the new position.
        """
        with self.db.transaction() as cur:
            self._locked_position(cur, live.tracking_name)  # holds the live runner off
            position = catch_up(cur, self._locked_position(cur, self.tracking_name))
            for table in self.projection.tables:
                old, new = table.name, table.name + self.suffix
                cur.execute(f"DROP TABLE IF EXISTS {old}")
                cur.execute(f"ALTER TABLE {new} RENAME TO {old}")
                self.dialect.rename_indexes(cur, table, old, new)
            cur.execute(f"UPDATE {TRACKING} SET position = %s WHERE name = %s",
                        [position, live.tracking_name])
            cur.execute(f"DELETE FROM {TRACKING} WHERE name = %s", [self.tracking_name])
        return position
