"""Each backend's read-model SQL behind one interface: SQLite and PostgreSQL.

What differs between them: column types and collation, the catalog fixes of a table made by an
earlier release, how a rebuild's indexes are built, whether rows are COPYed, the function that
keeps the larger of two values, how a swapped-in table's indexes get their live names.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import psycopg

from infrastructure.database import Cursor, Database, PostgresDatabase
from projections.model import JSON, TEXT, UUID, Table

log = logging.getLogger("beacon.projections")
# maintenance_work_mem for a rebuild's index builds: sorts 1M keys in memory.
INDEX_MEMORY = "256MB"


class DuplicateKeyError(Exception):
    """A table said to insert each key once (`Table.keys_once`) received a key twice."""


def index_name(table: str, columns: Sequence[str]) -> str:
    return f"{table}_{'_'.join(columns)}_idx"[:63]


class ReadModelDialect(ABC):
    """The read-model SQL of one backend."""

    types: dict[str, str]
    collation = ""  # appended to text columns
    larger = "MAX"  # the scalar function that keeps the larger of two values
    lock_row = ""  # appended to a SELECT that reads a tracking position to move it
    copy_from: int | None = None  # upsert runs at least this long go through COPY
    decodes_records = False  # InsertRecords become rows here, COPYed (see `Records`)
    defers_keys = False  # a rebuild may build a keys-once table's primary key after loading

    def create_statements(self, table: Table, suffix: str = "", *, key: bool = True) -> list[str]:
        """CREATE TABLE (with its primary key unless `key` is false), then its CREATE INDEXes."""
        name = table.name + suffix
        columns = [f"{c} {self.types[t]}{self.collation if t == TEXT else ''}"
                   for c, t in table.columns.items()]
        if key:
            columns.append(f"CONSTRAINT {name}_pkey PRIMARY KEY ({', '.join(table.primary_key)})")
        else:  # the key comes later, USING an index built after loading: its columns are NOT NULL
            columns = [f"{c} NOT NULL" if c.split()[0] in table.primary_key else c for c in columns]
        statements = [f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(columns)})"]
        statements += [
            f"CREATE INDEX IF NOT EXISTS {index_name(name, cols)} ON {name} ({', '.join(cols)})"
            for cols in table.indexes
        ]
        return statements

    def settle_columns(self, cur: Cursor, table: Table, name: str, *,  # noqa: B027 - SQLite: none
                       indexes: bool) -> None:
        """Bring an existing table's columns to what this release declares."""

    def build_indexes(self, db: Database, tables: Sequence[Table], suffix: str,
                      deferred: set[str]) -> None:
        """Build the secondary indexes (and `deferred` tables' primary keys) of loaded tables."""
        with db.transaction() as cur:
            for table in tables:
                for statement in self.create_statements(table, suffix)[1:]:
                    cur.execute(statement)

    def vacuum(self, db: Database, names: Sequence[str]) -> None:  # noqa: B027 - SQLite: none
        """After a bulk load: what autovacuum would do before anyone reads the tables."""

    def bool_value(self, value: bool) -> Any:
        return value

    def records_sql(self, name: str, table: Table, fields: tuple[tuple[str, str], ...],
                    constants: tuple[str, ...]) -> str:
        """The statement inserting an InsertRecords' JSON array, where the database unpacks it."""
        raise NotImplementedError(f"{type(self).__name__} decodes records itself (`Records`)")

    @abstractmethod
    def rename_indexes(self, cur: Cursor, table: Table, old: str, new: str) -> None:
        """Give the indexes of `new`, just renamed to `old`, their live names."""


class SQLiteReadModels(ReadModelDialect):
    types = {"text": "TEXT", "bigint": "INTEGER", "bool": "INTEGER", "json": "TEXT",
             "double": "REAL", "uuid": "TEXT"}

    def bool_value(self, value: bool) -> Any:
        return int(value)

    def rename_indexes(self, cur: Cursor, table: Table, old: str, new: str) -> None:
        # SQLite cannot rename an index: build it again under the live name.
        for cols in table.indexes:
            cur.execute(f"DROP INDEX IF EXISTS {index_name(new, cols)}")
            cur.execute(f"CREATE INDEX {index_name(old, cols)} ON {old} ({', '.join(cols)})")

    def records_sql(self, name: str, table: Table, fields: tuple[tuple[str, str], ...],
                    constants: tuple[str, ...]) -> str:
        """INSERT … SELECT over a JSON array parameter, unpacked by the database itself (on
        PostgreSQL the records are decoded and COPYed: see `Records`)."""
        columns = [*constants, *(column for column, _ in fields)]
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in table.primary_key)
        conflict = f"ON CONFLICT ({', '.join(table.primary_key)}) DO UPDATE SET {updates}"
        values = [*(["%s"] * len(constants)),
                  *(f"json_extract(value, '$.{key}')" for _, key in fields)]
        return (f"INSERT INTO {name} ({', '.join(columns)}) SELECT {', '.join(values)} "
                f"FROM json_each(%s) WHERE true {conflict}")


class PostgresReadModels(ReadModelDialect):
    types = {"text": "TEXT", "bigint": "BIGINT", "bool": "BOOLEAN", "json": "JSONB",
             "double": "DOUBLE PRECISION", "uuid": "UUID"}
    # Text columns compare by code point, as SQLite's do, whatever the database's locale: one
    # order on both backends, and memcmp instead of strcoll when building and reading indexes.
    collation = ' COLLATE "C"'
    larger = "GREATEST"
    lock_row = " FOR UPDATE"
    copy_from = 200
    decodes_records = True
    defers_keys = True

    def settle_columns(self, cur: Cursor, table: Table, name: str, *, indexes: bool) -> None:
        """ANALYZE skips JSON columns: queries only ever ask for a key's value (`->>`), which a
        whole document's statistics say nothing about, and sorting sampled documents was a
        third of a rebuild's ANALYZE. A UUID column an earlier release created as text becomes
        uuid (the table is rewritten once, under an exclusive lock), when indexes are built."""
        for column in self._columns_where(cur, table, name, JSON, "attstattarget IS DISTINCT FROM 0"):
            cur.execute(f"ALTER TABLE {name} ALTER COLUMN {column} SET STATISTICS 0")
        if not indexes:
            return
        for column in self._columns_where(cur, table, name, UUID, "atttypid = 'text'::regtype"):
            log.warning("converting %s.%s from text to uuid (rewrites the table once)", name, column)
            cur.execute(f"ALTER TABLE {name} ALTER COLUMN {column} TYPE uuid USING {column}::uuid")

    @staticmethod
    def _columns_where(cur: Cursor, table: Table, name: str, kind: str,
                       condition: str) -> list[str]:
        """The table's columns of portable type `kind` whose catalog entry (pg_attribute) meets
        `condition`."""
        declared = [c for c, k in table.columns.items() if k == kind]
        if not declared:
            return []
        cur.execute("SELECT attname AS name FROM pg_attribute WHERE attrelid = to_regclass(%s) "
                    f"AND attnum > 0 AND NOT attisdropped AND {condition}", [name])
        return [row["name"] for row in cur.fetchall() if row["name"] in declared]

    def build_indexes(self, db: Database, tables: Sequence[Table], suffix: str,
                      deferred: set[str]) -> None:
        """The builds run side by side, one connection each: a build's final merge and write
        is serial. Raises DuplicateKeyError when a deferred key is not unique after all."""
        builds = []
        for table in tables:
            name = table.name + suffix
            if table.name in deferred:
                builds.append(f"CREATE UNIQUE INDEX {name}_pkey ON {name} "
                              f"({', '.join(table.primary_key)})")
            builds += self.create_statements(table, suffix)[1:]
        with ThreadPoolExecutor(max_workers=len(builds) or 1,
                                thread_name_prefix="rebuild-index") as builders:
            for done in [builders.submit(self._build_index, db, sql) for sql in builds]:
                done.result()
        with db.transaction() as cur:
            for table in tables:
                if table.name in deferred:
                    name = table.name + suffix
                    cur.execute(f"ALTER TABLE {name} ADD CONSTRAINT {name}_pkey "
                                f"PRIMARY KEY USING INDEX {name}_pkey")

    @staticmethod
    def _build_index(db: Database, statement: str) -> None:
        with db.transaction() as cur:
            cur.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'")
            # The builds already run side by side, one per index: parallel workers for each on
            # top oversubscribed the cores (docs/performance-history.md).
            cur.execute("SET LOCAL max_parallel_maintenance_workers = 0")
            try:
                cur.execute(statement)
            except psycopg.errors.UniqueViolation as error:
                raise DuplicateKeyError(str(error)) from error

    def vacuum(self, db: Database, names: Sequence[str]) -> None:
        """Set the visibility map (index-only scans need it) and the planner's statistics."""
        with cast(PostgresDatabase, db).connection() as conn:
            conn.autocommit = True  # VACUUM cannot run inside a transaction
            try:
                for name in names:
                    conn.execute(f"VACUUM (ANALYZE) {name}")
            finally:
                conn.autocommit = False

    def rename_indexes(self, cur: Cursor, table: Table, old: str, new: str) -> None:
        cur.execute(f"ALTER INDEX {new}_pkey RENAME TO {old}_pkey")
        for cols in table.indexes:
            cur.execute(f"ALTER INDEX {index_name(new, cols)} RENAME TO {index_name(old, cols)}")


DIALECTS: dict[str, ReadModelDialect] = {"sqlite": SQLiteReadModels(),
                                         "postgres": PostgresReadModels()}


def dialect_of(db: Database) -> ReadModelDialect:
    return DIALECTS[db.dialect]
