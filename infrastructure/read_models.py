"""Read-model tables on either backend: DDL, guarded batch writes with tracking, and the rebuild swap.

Each projection's tables carry an optional suffix: the live tables have none, a rebuild writes into
`<table>__rebuild` and is swapped in within one transaction. The tracking row of a projection is
written in the same transaction as its rows, after checking that nobody else moved it: that check is
what makes a page exactly-once even with two runners, or a runner racing a rebuild's swap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any

import orjson
import psycopg

from infrastructure.database import Cursor, Database, PostgresDatabase
from infrastructure.fanout import fanout_statement
from infrastructure.record_copy import RecordShape
from projections.model import (
    BOOL,
    JSON,
    TEXT,
    UUID,
    Delete,
    Fanout,
    InsertRecords,
    KeepMax,
    Op,
    Patch,
    Projection,
    Table,
    Upsert,
)

log = logging.getLogger("beacon.projections")
TYPES = {
    "sqlite": {"text": "TEXT", "bigint": "INTEGER", "bool": "INTEGER", "json": "TEXT",
               "double": "REAL", "uuid": "TEXT"},
    "postgres": {"text": "TEXT", "bigint": "BIGINT", "bool": "BOOLEAN", "json": "JSONB",
                 "double": "DOUBLE PRECISION", "uuid": "UUID"},
}
# Text columns compare by code point, as SQLite's do, whatever the database's locale: one order on
# both backends, and memcmp instead of strcoll when building and reading indexes.
COLLATIONS = {"sqlite": "", "postgres": ' COLLATE "C"'}
TRACKING = "rm_tracking"
COPY_FROM = 200  # upsert runs at least this long go through COPY on PostgreSQL
REBUILD = "__rebuild"
INDEX_MEMORY = "256MB"  # maintenance_work_mem for a rebuild's index builds: sort 1M keys in memory


class DuplicateKeyError(Exception):
    """A table said to insert each key once (`Table.keys_once`) received a key twice."""


def index_name(table: str, columns: Sequence[str]) -> str:
    return f"{table}_{'_'.join(columns)}_idx"[:63]


def key_constraint(table: Table, suffix: str = "") -> str:
    return f"CONSTRAINT {table.name + suffix}_pkey PRIMARY KEY ({', '.join(table.primary_key)})"


def create_statements(table: Table, dialect: str, suffix: str = "", *,
                      key: bool = True) -> list[str]:
    """CREATE TABLE (with its primary key unless `key` is false), then its CREATE INDEXes."""
    name = table.name + suffix
    types = TYPES[dialect]
    collate = COLLATIONS[dialect]
    columns = [f"{c} {types[t]}{collate if t == TEXT else ''}" for c, t in table.columns.items()]
    if key:
        columns.append(key_constraint(table, suffix))
    else:  # the key comes later, USING an index built after loading: its columns are NOT NULL
        columns = [f"{c} NOT NULL" if c.split()[0] in table.primary_key else c for c in columns]
    statements = [f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(columns)})"]
    statements += [
        f"CREATE INDEX IF NOT EXISTS {index_name(name, cols)} ON {name} ({', '.join(cols)})"
        for cols in table.indexes
    ]
    return statements


@lru_cache(maxsize=512)
def _upsert_sql(table: str, columns: tuple[str, ...], pk: tuple[str, ...]) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in pk)
    conflict = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT ({', '.join(pk)}) {conflict}")


def _records_sql(name: str, table: Table, fields: tuple[tuple[str, str], ...],
                 constants: tuple[str, ...]) -> str:
    """SQLite: INSERT … SELECT over a JSON array parameter, unpacked by the database itself (on
    PostgreSQL the records are decoded and COPYed: see `Records`)."""
    columns = [*constants, *(column for column, _ in fields)]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in table.primary_key)
    conflict = f"ON CONFLICT ({', '.join(table.primary_key)}) DO UPDATE SET {updates}"
    values = [*(["%s"] * len(constants)),
              *(f"json_extract(value, '$.{key}')" for _, key in fields)]
    return (f"INSERT INTO {name} ({', '.join(columns)}) SELECT {', '.join(values)} "
            f"FROM json_each(%s) WHERE true {conflict}")



@dataclass
class Rows:
    """Rows for one table's columns, written together: COPY, or one executemany."""

    table: Table
    columns: tuple[str, ...]
    rows: list[list[Any]]
    copy: bool


@dataclass
class Records:
    """The JSON arrays of consecutive InsertRecords of one shape on PostgreSQL: decoded and
    COPYed together, in clustered order. `deferred`: the table's key is built after the load (a
    rebuild), so the rows go straight in; otherwise they are upserted."""

    table: Table
    fields: tuple[tuple[str, str], ...]  # column → key
    constants: tuple[str, ...]
    rows: list[list[Any]]  # the constants' values, then the array's text
    deferred: bool


class Plan(list[Rows | Records | Op]):
    """A page's writes in order, prepared: batches of rows, and operations run one by one."""

    @property
    def order_free(self) -> bool:
        """Nothing but inserts of keys that occur once: pages of these may commit in any order."""
        return all(isinstance(step, Records) and step.deferred for step in self)

    def append_rows(self, rows: Rows | Records | None) -> None:
        if rows is not None:
            self.append(rows)

    def append_records(self, table: Table, op: InsertRecords, *, deferred: bool) -> None:
        """Add `op`'s array to the last step when that holds arrays of the same shape."""
        fields, constants = tuple(op.fields.items()), tuple(op.constants)
        last = self[-1] if self else None
        if not (isinstance(last, Records) and last.table is table and last.fields == fields
                and last.constants == constants and last.deferred == deferred):
            last = Records(table, fields, constants, [], deferred)
            self.append(last)
        last.rows.append([*op.constants.values(), op.records])


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
        self._tables = {t.name: t for t in projection.tables}
        self._records_sql: dict[tuple[Any, ...], str] = {}
        self._shapes: dict[tuple[Any, ...], RecordShape] = {}
        self._deferred = {t.name for t in projection.tables
                          if deferred_keys and t.keys_once and db.dialect == "postgres"}

    def create_tables(self, *, indexes: bool = True) -> None:
        """Create the tables (a rebuild adds secondary indexes only after loading)."""
        with self.db.transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {TRACKING} "
                        "(name TEXT PRIMARY KEY, position BIGINT NOT NULL)")
            for table in self.projection.tables:
                statements = create_statements(table, self.db.dialect, self.suffix,
                                               key=table.name not in self._deferred)
                cur.execute(statements[0])
                self._no_statistics_for_json(cur, table)
                if indexes:
                    self._convert_text_to_uuid(cur, table)
                    for statement in statements[1:]:
                        cur.execute(statement)
                    for cols in table.retired_indexes:
                        cur.execute(f"DROP INDEX IF EXISTS {index_name(table.name + self.suffix, cols)}")
            cur.execute(f"INSERT INTO {TRACKING} (name, position) VALUES (%s, 0) "
                        "ON CONFLICT (name) DO NOTHING", [self.tracking_name])

    def _no_statistics_for_json(self, cur: Cursor, table: Table) -> None:
        """On PostgreSQL, ANALYZE skips JSON columns: queries only ever ask for a key's value
        (`->>`), which a whole document's statistics say nothing about, and sorting 30,000
        sampled documents took a third of a rebuilt rm_events' ANALYZE (0.31 s -> 0.21 at 1M)."""
        name = table.name + self.suffix
        for column in self._columns_where(cur, table, JSON, "attstattarget IS DISTINCT FROM 0"):
            cur.execute(f"ALTER TABLE {name} ALTER COLUMN {column} SET STATISTICS 0")

    def _convert_text_to_uuid(self, cur: Cursor, table: Table) -> None:
        """On PostgreSQL, a UUID column an earlier release created as text becomes uuid (the
        table is rewritten once, under an exclusive lock: 4.3 s for 1M events with its indexes)."""
        name = table.name + self.suffix
        for column in self._columns_where(cur, table, UUID, "atttypid = 'text'::regtype"):
            log.warning("converting %s.%s from text to uuid (rewrites the table once)", name, column)
            cur.execute(f"ALTER TABLE {name} ALTER COLUMN {column} TYPE uuid USING {column}::uuid")

    def _columns_where(self, cur: Cursor, table: Table, kind: str, condition: str) -> list[str]:
        """On PostgreSQL, the table's columns of portable type `kind` whose catalog entry
        (pg_attribute) meets `condition`; none on SQLite."""
        declared = [c for c, k in table.columns.items() if k == kind]
        if self.db.dialect != "postgres" or not declared:
            return []
        cur.execute("SELECT attname AS name FROM pg_attribute WHERE attrelid = to_regclass(%s) "
                    f"AND attnum > 0 AND NOT attisdropped AND {condition}",
                    [table.name + self.suffix])
        return [row["name"] for row in cur.fetchall() if row["name"] in declared]

    def create_indexes(self) -> None:
        """Build the deferred primary keys and the secondary indexes of loaded tables; raises
        DuplicateKeyError when a deferred key is not unique after all. On PostgreSQL the builds
        run side by side, one connection each: a build's final merge and write is serial."""
        if self.db.dialect != "postgres":
            with self.db.transaction() as cur:
                for table in self.projection.tables:
                    for statement in create_statements(table, self.db.dialect, self.suffix)[1:]:
                        cur.execute(statement)
            return
        builds = []
        for table in self.projection.tables:
            name = table.name + self.suffix
            if table.name in self._deferred:
                builds.append(f"CREATE UNIQUE INDEX {name}_pkey ON {name} "
                              f"({', '.join(table.primary_key)})")
            builds += create_statements(table, self.db.dialect, self.suffix)[1:]
        with ThreadPoolExecutor(max_workers=len(builds) or 1,
                                thread_name_prefix="rebuild-index") as builders:
            for done in [builders.submit(self._build_index, sql) for sql in builds]:
                done.result()
        with self.db.transaction() as cur:
            for table in self.projection.tables:
                if table.name in self._deferred:
                    name = table.name + self.suffix
                    cur.execute(f"ALTER TABLE {name} ADD CONSTRAINT {name}_pkey "
                                f"PRIMARY KEY USING INDEX {name}_pkey")

    def _build_index(self, statement: str) -> None:
        with self.db.transaction() as cur:
            cur.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'")
            # The builds already run side by side, one per index: parallel workers for each on
            # top oversubscribed the cores (index phase at 1M, 2 cores: 6.1-7.7 s against 8.2-9.5).
            cur.execute("SET LOCAL max_parallel_maintenance_workers = 0")
            try:
                cur.execute(statement)
            except psycopg.errors.UniqueViolation as error:
                raise DuplicateKeyError(str(error)) from error

    def vacuum(self) -> None:
        """After a bulk load on PostgreSQL: set the visibility map (index-only scans need it) and
        the planner's statistics, as autovacuum would, before anyone reads the tables."""
        if not isinstance(self.db, PostgresDatabase):
            return
        with self.db.connection() as conn:
            conn.autocommit = True  # VACUUM cannot run inside a transaction
            try:
                for table in self.projection.tables:
                    conn.execute(f"VACUUM (ANALYZE) {table.name + self.suffix}")
            finally:
                conn.autocommit = False

    def position(self) -> int:
        rows = self.db.query(f"SELECT position FROM {TRACKING} WHERE name = %s",
                             [self.tracking_name])
        return int(rows[0]["position"]) if rows else 0

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
        for step in ops if isinstance(ops, Plan) else self.plan(ops):
            if isinstance(step, Rows):
                self._write_rows(cur, step)
            elif isinstance(step, Records):
                self._write_records(cur, step)
            else:
                self._write_one(cur, step)

    def plan(self, ops: Iterable[Op]) -> Plan:
        """The statements a page's operations become, prepared without touching the database (a
        rebuild prepares the next page on another thread while this one is written). Consecutive
        rows for one table go together: one executemany, or COPY when there are many; so do the
        records of consecutive InsertRecords on PostgreSQL (see `Records`)."""
        plan = Plan()
        run: tuple[str, tuple[str, ...]] | None = None
        rows: list[list[Any]] = []
        for op in ops:
            if isinstance(op, InsertRecords) and self.db.dialect == "postgres":
                plan.append_rows(self._rows(run, rows))
                run, rows = None, []
                plan.append_records(self._tables[op.table], op, deferred=op.table in self._deferred)
                continue
            batch = self._as_rows(op)
            if batch is None:
                plan.append_rows(self._rows(run, rows))
                run, rows = None, []
                plan.append(op)
                continue
            shape, more = batch
            if shape != run:
                plan.append_rows(self._rows(run, rows))
                run, rows = shape, []
            rows.extend(more)
        plan.append_rows(self._rows(run, rows))
        return plan

    def _as_rows(self, op: Op) -> tuple[tuple[str, tuple[str, ...]], list[list[Any]]] | None:
        """An op as plain rows of (table, columns), when it is nothing but rows to insert."""
        if isinstance(op, Upsert):
            return (op.table, tuple(op.row)), [list(op.row.values())]
        return None

    def _rows(self, shape: tuple[str, tuple[str, ...]] | None, rows: list[list[Any]]) -> Rows | None:
        """Rows ready to write: for COPY, one per key (the last, as applying them in order would
        leave), JSON as text, in the table's clustered order."""
        if shape is None or not rows:
            return None
        table, columns = self._tables[shape[0]], shape[1]
        if self.db.dialect != "postgres" or len(rows) < COPY_FROM:
            return Rows(table, columns, rows, copy=False)
        for i, column in enumerate(columns):
            if table.columns[column] == JSON:  # COPY takes JSON as text; orjson beats the dumper
                for row in rows:
                    row[i] = None if row[i] is None else orjson.dumps(row[i]).decode()
        if table.name not in self._deferred:  # a deferred key is unique by contract, checked later
            key = [columns.index(c) for c in table.primary_key]
            rows = list({tuple(row[i] for i in key): row for row in rows}.values())
        if table.clustered_by and set(table.clustered_by) <= set(columns):
            order = itemgetter(*(columns.index(c) for c in table.clustered_by))
            with suppress(TypeError):  # a NULL among them: leave the order as it came
                rows.sort(key=order)
        return Rows(table, columns, rows, copy=True)

    def _write_rows(self, cur: Cursor, rows: Rows) -> None:
        table, columns = rows.table, rows.columns
        if rows.copy:
            self._copy_upsert(cur, table, columns,
                              lambda into: self._copy_rows(cur, into, columns, rows.rows))
            return
        sql = _upsert_sql(table.name + self.suffix, columns, table.primary_key)
        adapted = [[self._adapt(table, c, v) for c, v in zip(columns, row, strict=True)]
                   for row in rows.rows]
        if len(adapted) == 1:
            cur.execute(sql, adapted[0])
        else:
            cur.executemany(sql, adapted)

    def _copy_upsert(self, cur: Any, table: Table, columns: tuple[str, ...],
                     copy_into: Callable[[str], None]) -> None:
        """Many rows at once on PostgreSQL: COPY (`copy_into` a table), then one INSERT …
        SELECT … ON CONFLICT."""
        name = table.name + self.suffix
        if (self.suffix == REBUILD or table.keys_once) and self._copy_straight_in(cur, name, copy_into):
            return
        stage = f"stage_{table.name}"
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {name})")
        copy_into(stage)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in table.primary_key)
        cur.execute(f"INSERT INTO {name} ({', '.join(columns)}) SELECT {', '.join(columns)} "
                    f"FROM {stage} ON CONFLICT ({', '.join(table.primary_key)}) "
                    f"{'DO UPDATE SET ' + updates if updates else 'DO NOTHING'}")
        cur.execute(f"TRUNCATE {stage}")

    def _write_records(self, cur: Any, records: Records) -> None:
        """Decode every array of the step into rows and COPY them, in the table's clustered order
        (see `RecordShape`)."""
        key = (records.table.name, records.fields, records.constants)
        if key not in self._shapes:
            self._shapes[key] = RecordShape.of(records.table, records.fields, records.constants)
        shape, table = self._shapes[key], records.table
        if records.deferred:  # unique by contract, checked when the key is built
            with shape.rows(records.rows) as rows:
                shape.copy(cur, table.name + self.suffix, rows)
            return
        with shape.rows(records.rows, unique=table.primary_key) as rows:
            if len(rows) >= COPY_FROM:
                self._copy_upsert(cur, table, shape.columns,
                                  lambda into: shape.copy(cur, into, rows))
            else:
                cur.executemany(_upsert_sql(table.name + self.suffix, shape.columns,
                                            table.primary_key), shape.parameters(rows))

    @staticmethod
    def _copy_rows(cur: Any, name: str, columns: tuple[str, ...], rows: Iterable[list[Any]]) -> None:
        with cur.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    @staticmethod
    def _copy_straight_in(cur: Any, name: str, copy_into: Callable[[str], None]) -> bool:
        """A rebuild's fresh tables, and tables whose keys come once, mostly receive new keys:
        COPY right into them, and fall back to the upsert path (nothing lost: a savepoint undoes
        the attempt) on a key already there."""
        try:
            with cur.connection.transaction():
                copy_into(name)
        except psycopg.errors.UniqueViolation:
            return False
        return True

    def _write_one(self, cur: Cursor, op: Op) -> None:
        table = self._tables[op.table]
        name = table.name + self.suffix
        if isinstance(op, KeepMax):
            columns = tuple(op.row)
            larger = "GREATEST" if self.db.dialect == "postgres" else "MAX"
            current = f"COALESCE({name}.{op.column}, excluded.{op.column})"
            cur.execute(
                f"INSERT INTO {name} ({', '.join(columns)}) "
                f"VALUES ({', '.join(['%s'] * len(columns))}) "
                f"ON CONFLICT ({', '.join(table.primary_key)}) DO UPDATE SET "
                f"{op.column} = {larger}({current}, excluded.{op.column})",
                [self._adapt(table, c, op.row[c]) for c in columns])
        elif isinstance(op, Patch):
            sets = ", ".join(f"{c} = %s" for c in op.values)
            where = " AND ".join(f"{c} = %s" for c in op.key)
            cur.execute(f"UPDATE {name} SET {sets} WHERE {where}",
                        [self._adapt(table, c, v) for c, v in op.values.items()]
                        + list(op.key.values()))
        elif isinstance(op, Delete):
            where = " AND ".join(f"{c} = %s" for c in op.key)
            cur.execute(f"DELETE FROM {name} WHERE {where}", list(op.key.values()))
        elif isinstance(op, Fanout):
            cur.execute(*fanout_statement(op, table, TYPES[self.db.dialect], self.suffix,
                                          lambda c, v: self._adapt(table, c, v)))
        elif isinstance(op, InsertRecords):
            shape = (name, tuple(op.fields.items()), tuple(op.constants))
            if shape not in self._records_sql:
                self._records_sql[shape] = _records_sql(name, table, *shape[1:])
            cur.execute(self._records_sql[shape],
                        [*(self._adapt(table, c, v) for c, v in op.constants.items()), op.records])

    def _adapt(self, table: Table, column: str, value: Any) -> Any:
        kind = table.columns[column]
        if kind == JSON:
            return self.db.json(value)
        if kind == BOOL and value is not None and self.db.dialect == "sqlite":
            return int(value)
        return value

    def _locked_position(self, cur: Cursor, name: str) -> int:
        lock = " FOR UPDATE" if self.db.dialect == "postgres" else ""
        cur.execute(f"SELECT position FROM {TRACKING} WHERE name = %s{lock}", [name])
        row = cur.fetchone()
        return int(row["position"]) if row else 0

    def drop(self) -> None:
        with self.db.transaction() as cur:
            for table in self.projection.tables:
                cur.execute(f"DROP TABLE IF EXISTS {table.name + self.suffix}")
            cur.execute(f"DELETE FROM {TRACKING} WHERE name = %s", [self.tracking_name])

    def swap_into(self, live: ReadModelStore, catch_up: Any) -> int:
        """Replace the live tables with these rebuilt ones, atomically.

        `catch_up(cursor, position)` writes whatever arrived since this store's position into
        these tables within the swap's transaction and returns the new position.
        """
        dialect = self.db.dialect
        with self.db.transaction() as cur:
            self._locked_position(cur, live.tracking_name)  # holds the live runner off
            position = catch_up(cur, self._locked_position(cur, self.tracking_name))
            for table in self.projection.tables:
                old, new = table.name, table.name + self.suffix
                cur.execute(f"DROP TABLE IF EXISTS {old}")
                cur.execute(f"ALTER TABLE {new} RENAME TO {old}")
                indexes = [(index_name(new, cols), index_name(old, cols), cols)
                           for cols in table.indexes]
                if dialect == "postgres":
                    cur.execute(f"ALTER INDEX {new}_pkey RENAME TO {old}_pkey")
                    for index_new, index_old, _ in indexes:
                        cur.execute(f"ALTER INDEX {index_new} RENAME TO {index_old}")
                else:
                    for index_new, index_old, cols in indexes:
                        cur.execute(f"DROP INDEX IF EXISTS {index_new}")
                        cur.execute(f"CREATE INDEX {index_old} ON {old} ({', '.join(cols)})")
            cur.execute(f"UPDATE {TRACKING} SET position = %s WHERE name = %s",
                        [position, live.tracking_name])
            cur.execute(f"DELETE FROM {TRACKING} WHERE name = %s", [self.tracking_name])
        return position
