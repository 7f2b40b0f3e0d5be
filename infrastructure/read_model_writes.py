"""Writing a planned page into one projection's tables, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

import psycopg

from infrastructure.database import Cursor, Database
from infrastructure.fanout import fanout_statement
from infrastructure.nul_text import json_without_nul
from infrastructure.read_model_dialects import ReadModelDialect
from infrastructure.read_model_plans import Counts, Plan, Records, Rows
from infrastructure.record_copy import RecordShape
from projections.model import BOOL, JSON, Delete, Fanout, InsertRecords, KeepMax, Op, Patch, Table


@lru_cache(maxsize=512)
def _upsert_sql(table: str, columns: tuple[str, ...], pk: tuple[str, ...]) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in pk)
    conflict = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT ({', '.join(pk)}) {conflict}")


class PageWriter:
    """Writes plans into the tables of one projection carrying `suffix`; `fresh`: a rebuild's
    tables, which mostly receive keys they do not have yet."""

    def __init__(self, db: Database, dialect: ReadModelDialect, tables: dict[str, Table],
                 suffix: str, *, fresh: bool):
        self.db = db
        self.dialect = dialect
        self.tables = tables
        self.suffix = suffix
        self.fresh = fresh
        self._records_sql: dict[tuple[Any, ...], str] = {}
        self._shapes: dict[tuple[Any, ...], RecordShape] = {}

    def write(self, cur: Cursor, plan: Plan) -> None:
        for step in plan:
            if isinstance(step, Rows):
                self._write_rows(cur, step)
            elif isinstance(step, Records):
                self._write_records(cur, step)
            elif isinstance(step, Counts):
                self._write_counts(cur, step)
            else:
                self._write_one(cur, step)

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
        if (self.fresh or table.keys_once) and self._copy_straight_in(cur, name, copy_into):
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
            if len(rows) >= (self.dialect.copy_from or 0):
                self._copy_upsert(cur, table, shape.columns,
                                  lambda into: shape.copy(cur, into, rows))
            else:
                cur.executemany(_upsert_sql(table.name + self.suffix, shape.columns,
                                            table.primary_key), shape.parameters(rows))

    def _write_counts(self, cur: Cursor, counts: Counts) -> None:
        """Add each row's amount to its key's row (inserted if absent), in the rows' order: one
        executemany, or on PostgreSQL, when there are many, COPY into a staging table and one
        INSERT … SELECT in key order."""
        table, column = counts.table, counts.column
        name = table.name + self.suffix
        columns = (*counts.key, column)
        conflict = (f"ON CONFLICT ({', '.join(table.primary_key)}) DO UPDATE SET "
                    f"{column} = {name}.{column} + excluded.{column}")
        if len(counts.rows) >= (self.dialect.copy_from or len(counts.rows) + 1):
            stage = f"stage_{table.name}"
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {name})")
            self._copy_rows(cur, stage, columns, counts.rows)
            cur.execute(f"INSERT INTO {name} ({', '.join(columns)}) SELECT {', '.join(columns)} "
                        f"FROM {stage} ORDER BY {', '.join(counts.key)} {conflict}")
            cur.execute(f"TRUNCATE {stage}")
            return
        cur.executemany(
            f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
            f"{conflict}", [[self._adapt(table, c, v) for c, v in zip(columns, row, strict=True)]
                            for row in counts.rows])

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
        table = self.tables[op.table]
        name = table.name + self.suffix
        if isinstance(op, KeepMax):
            columns = tuple(op.row)
            current = f"COALESCE({name}.{op.column}, excluded.{op.column})"
            cur.execute(
                f"INSERT INTO {name} ({', '.join(columns)}) "
                f"VALUES ({', '.join(['%s'] * len(columns))}) "
                f"ON CONFLICT ({', '.join(table.primary_key)}) DO UPDATE SET "
                f"{op.column} = {self.dialect.larger}({current}, excluded.{op.column})",
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
            cur.execute(*fanout_statement(op, table, self.dialect.types, self.suffix,
                                          lambda c, v: self._adapt(table, c, v)))
        elif isinstance(op, InsertRecords):
            self._insert_records(cur, table, name, op)

    def _insert_records(self, cur: Cursor, table: Table, name: str, op: InsertRecords) -> None:
        """InsertRecords the backend unpacks itself (SQLite; PostgreSQL plans `Records`)."""
        shape = (name, tuple(op.fields.items()), tuple(op.constants))
        if shape not in self._records_sql:
            self._records_sql[shape] = self.dialect.records_sql(name, table, *shape[1:])
        # SQLite's JSON functions end a text at a NUL: the rest would be lost (nul_text.py).
        cur.execute(self._records_sql[shape],
                    [*(self._adapt(table, c, v) for c, v in op.constants.items()),
                     json_without_nul(op.records)])

    def _adapt(self, table: Table, column: str, value: Any) -> Any:
        kind = table.columns[column]
        if kind == JSON:
            return self.db.json(value)
        if kind == BOOL and value is not None:
            return self.dialect.bool_value(value)
        return value
