"""Read-model tables on either backend: DDL, guarded batch writes with tracking, and the rebuild swap.

Each projection's tables carry an optional suffix: the live tables have none, a rebuild writes into
`<table>__rebuild` and is swapped in within one transaction. The tracking row of a projection is
written in the same transaction as its rows, after checking that nobody else moved it: that check is
what makes a page exactly-once even with two runners, or a runner racing a rebuild's swap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from infrastructure.database import Cursor, Database
from projections.model import BOOL, JSON, Delete, KeepMax, Op, Patch, Projection, Table, Upsert

TYPES = {
    "sqlite": {"text": "TEXT", "bigint": "INTEGER", "bool": "INTEGER", "json": "TEXT",
               "double": "REAL"},
    "postgres": {"text": "TEXT", "bigint": "BIGINT", "bool": "BOOLEAN", "json": "JSONB",
                 "double": "DOUBLE PRECISION"},
}
TRACKING = "rm_tracking"
REBUILD = "__rebuild"


def index_name(table: str, columns: Sequence[str]) -> str:
    return f"{table}_{'_'.join(columns)}_idx"[:63]


def create_statements(table: Table, dialect: str, suffix: str = "") -> list[str]:
    name = table.name + suffix
    types = TYPES[dialect]
    columns = ", ".join(f"{c} {types[t]}" for c, t in table.columns.items())
    pk = ", ".join(table.primary_key)
    statements = [f"CREATE TABLE IF NOT EXISTS {name} ({columns}, "
                  f"CONSTRAINT {name}_pkey PRIMARY KEY ({pk}))"]
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


class ReadModelStore:
    """The tables and tracking position of one projection, live or being rebuilt."""

    def __init__(self, db: Database, projection: Projection, suffix: str = ""):
        self.db = db
        self.projection = projection
        self.suffix = suffix
        self.tracking_name = projection.name + suffix
        self._tables = {t.name: t for t in projection.tables}

    def create_tables(self) -> None:
        with self.db.transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {TRACKING} "
                        "(name TEXT PRIMARY KEY, position BIGINT NOT NULL)")
            for table in self.projection.tables:
                for statement in create_statements(table, self.db.dialect, self.suffix):
                    cur.execute(statement)
            cur.execute(f"INSERT INTO {TRACKING} (name, position) VALUES (%s, 0) "
                        "ON CONFLICT (name) DO NOTHING", [self.tracking_name])

    def position(self) -> int:
        rows = self.db.query(f"SELECT position FROM {TRACKING} WHERE name = %s",
                             [self.tracking_name])
        return int(rows[0]["position"]) if rows else 0

    def apply(self, ops: Iterable[Op], *, expected: int, position: int) -> bool:
        """Write a page's rows and move tracking to `position`, only if it is still at `expected`."""
        with self.db.transaction() as cur:
            if self._locked_position(cur, self.tracking_name) != expected:
                return False
            self.write(cur, ops)
            cur.execute(f"UPDATE {TRACKING} SET position = %s WHERE name = %s",
                        [position, self.tracking_name])
        return True

    def write(self, cur: Cursor, ops: Iterable[Op]) -> None:
        """Apply operations in order; runs of upserts into one table become one executemany."""
        run: list[Upsert] = []
        for op in ops:
            if isinstance(op, Upsert) and (not run or (run[0].table, tuple(run[0].row))
                                           == (op.table, tuple(op.row))):
                run.append(op)
                continue
            self._upsert_many(cur, run)
            run = [op] if isinstance(op, Upsert) else []
            if not run:
                self._write_one(cur, op)
        self._upsert_many(cur, run)

    def _upsert_many(self, cur: Cursor, run: list[Upsert]) -> None:
        if not run:
            return
        table = self._tables[run[0].table]
        columns = tuple(run[0].row)
        sql = _upsert_sql(table.name + self.suffix, columns, table.primary_key)
        rows = [[self._adapt(table, c, op.row[c]) for c in columns] for op in run]
        if len(rows) == 1:
            cur.execute(sql, rows[0])
        else:
            cur.executemany(sql, rows)

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
