"""A rebuild's bulk load of batch records on PostgreSQL: decoded by msgspec, COPYed in binary.

A batch's records are one JSON array of objects (a TrackedEvent's fields each). msgspec decodes
an array into structs in C, leaving JSON values (`properties`) as the raw bytes they were stored
as; the rows go out grouped by the clustered columns in a binary COPY, so the server parses
nothing but those JSON values (unpacking the arrays in PostgreSQL cost it far more).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import msgspec
import psycopg
from psycopg import Cursor, postgres
from psycopg.adapt import Dumper, PyFormat
from psycopg.pq import Format
from psycopg.types.numeric import Int8BinaryDumper

from infrastructure.nul_text import REPLACEMENT, json_without_nul
from projections.model import BIGINT, BOOL, DOUBLE, JSON, TEXT, UUID, Table

NULL = msgspec.Raw(b"null")
# psycopg's own (C) binary str dumper: the records' text has no NUL left (`_made_and_ordered`), so
# the COPY skips the read models' NUL-replacing one (infrastructure/nul_text.py), a Python call
# for every value.
STR_DUMPER = psycopg.adapters.get_dumper(str, PyFormat.BINARY)
FIELD_TYPES: dict[str, Any] = {TEXT: str | None, BIGINT: int | None, BOOL: bool | None,
                               DOUBLE: float | None, UUID: uuid.UUID | None}


class RawJsonbDumper(Dumper):
    """JSON as stored (msgspec.Raw) to binary jsonb: the version byte, then the text. A JSON
    null becomes SQL NULL, as `jsonb_to_recordset` makes it."""

    format = Format.BINARY
    oid = postgres.types["jsonb"].oid

    def dump(self, obj: Any) -> bytes | None:
        return None if obj == NULL else b"\x01" + obj


@dataclass(frozen=True)
class RecordShape:
    """How the records of one InsertRecords shape become COPY rows: each row is the record's
    fields, then the batch's constants."""

    columns: tuple[str, ...]
    decoder: msgspec.json.Decoder[list[Any]]
    uuids: tuple[int, ...]  # the constants (by place) of UUID columns: sent as their 16 bytes
    clustered: Any  # a row's clustered columns (an itemgetter), or None

    @classmethod
    def of(cls, table: Table, fields: Sequence[tuple[str, str]],
           constants: Sequence[str]) -> RecordShape:
        key_of = dict(fields)
        columns = (*key_of, *constants)
        struct = msgspec.defstruct("Record", [
            (key, msgspec.Raw, NULL) if table.columns[c] == JSON
            else (key, FIELD_TYPES[table.columns[c]], None)
            for c, key in fields], gc=False)  # flat values only: no cycles for the collector to chase
        clustered = [columns.index(c) for c in table.clustered_by if c in columns]
        return cls(columns, msgspec.json.Decoder(list[struct]),  # type: ignore[valid-type]
                   tuple(i for i, c in enumerate(constants) if table.columns[c] == UUID),
                   itemgetter(*clustered) if clustered else None)

    @contextmanager
    def rows(self, batches: Sequence[Sequence[Any]],
             unique: Sequence[str] = ()) -> Iterator[list[tuple[Any, ...]]]:
        """The rows to write, for the block's length. Each batch is its constants' values (in
        `constants` order) and its records' JSON. With `unique` columns, one row per key: the
        last, as writing them in order would leave. The rows come grouped by the table's
        clustered columns (see `Table.clustered_by`). A UUID constant comes out as its 16 bytes,
        what binary COPY sends (`parameters` turns rows back into query parameters).

        The list is emptied when the block ends, so that the rows are then freed in the order
        they were made, which is much cheaper than freeing them in clustered order."""
        made, ordered = self._made_and_ordered(batches, unique)
        try:
            yield ordered
        finally:
            ordered.clear()
            del made  # the last references: the rows go in the order they were made

    def _made_and_ordered(self, batches: Sequence[Sequence[Any]], unique: Sequence[str],
                          ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The rows as they were decoded, and the rows to write (see `rows`)."""
        astuple = msgspec.structs.astuple
        made: list[tuple[Any, ...]] = []
        for *values, records in batches:
            for i in self.uuids:
                values[i] = uuid.UUID(values[i]).bytes
            constants = tuple(v.replace("\x00", REPLACEMENT) if type(v) is str else v
                              for v in values)  # NUL: see STR_DUMPER
            made += [astuple(record) + constants
                     for record in self.decoder.decode(json_without_nul(records))]
        rows = made
        if unique:
            key_of = itemgetter(*(self.columns.index(c) for c in unique))
            rows = list({key_of(row): row for row in rows}.values())
        if self.clustered is None:
            return made, rows
        # Grouping in a dict is cheaper than sorting whole tuples, and keeps the order rows came
        # in within a group.
        groups: dict[Any, list[tuple[Any, ...]]] = {}
        group_of = self.clustered
        for row in rows:
            group = groups.get(at := group_of(row))
            if group is None:
                groups[at] = [row]
            else:
                group.append(row)
        try:
            in_order = sorted(groups)
        except TypeError:  # a NULL among the clustered columns: the groups in the order they came
            in_order = list(groups)
        ordered: list[tuple[Any, ...]] = []
        for at in in_order:
            ordered += groups[at]
        return made, ordered

    def copy(self, cur: Cursor[Any], table: str, rows: list[tuple[Any, ...]]) -> None:
        """Binary COPY, each value dumped by its Python type: str as text, bytes (a UUID) as
        they are, JSON by RawJsonbDumper, int always as int8 (psycopg picks the smallest
        integer type otherwise), str by psycopg's own dumper (see STR_DUMPER). The records'
        struct types are exactly the columns' (`of`), and without per-column types the UUID
        bytes go out through psycopg's C dumper."""
        # A cursor of its own: registering a dumper makes it the default for `%s` too, and the
        # page's other statements on `cur` send int and str as the server infers them.
        with cur.connection.cursor() as own:
            own.adapters.register_dumper(msgspec.Raw, RawJsonbDumper)
            own.adapters.register_dumper(int, Int8BinaryDumper)
            own.adapters.register_dumper(str, STR_DUMPER)
            columns = ", ".join(self.columns)
            with own.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                write = copy.write_row
                for row in rows:
                    write(row)

    @staticmethod
    def parameters(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
        """Rows as query parameters: JSON as its text, a UUID's bytes as a UUID."""
        return [[_json_text(v) if isinstance(v, msgspec.Raw)
                 else uuid.UUID(bytes=v) if isinstance(v, bytes) else v for v in row]
                for row in rows]


def _json_text(value: msgspec.Raw) -> str | None:
    """JSON as stored, for a parameter of a JSON column (JSON null is SQL NULL)."""
    return None if value == NULL else bytes(value).decode()

