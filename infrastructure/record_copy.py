"""A rebuild's bulk load of batch records on PostgreSQL: decoded by msgspec, COPYed in binary.

A batch's records are one JSON array of objects (a TrackedEvent's fields each). msgspec decodes
an array into structs in C, ~1 µs a record, leaving JSON values (`properties`) as the raw bytes
they were stored as; the rows go out in the table's clustered order in a binary COPY, so the
server parses nothing but those JSON values. PostgreSQL unpacking the arrays itself
(`jsonb_to_recordset`) cost ~25 µs of server time a record, three times the raw COPY of the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import msgspec
from psycopg import Cursor, postgres
from psycopg.adapt import Dumper
from psycopg.pq import Format

from projections.model import BIGINT, BOOL, DOUBLE, JSON, TEXT, Table

NULL = msgspec.Raw(b"null")
FIELD_TYPES: dict[str, Any] = {TEXT: str | None, BIGINT: int | None, BOOL: bool | None,
                               DOUBLE: float | None}
COPY_TYPES = {TEXT: "text", BIGINT: "int8", BOOL: "bool", DOUBLE: "float8", JSON: "jsonb"}


class RawJsonbDumper(Dumper):
    """JSON as stored (msgspec.Raw) to binary jsonb: the version byte, then the text. A JSON
    null becomes SQL NULL, as `jsonb_to_recordset` makes it."""

    format = Format.BINARY
    oid = postgres.types["jsonb"].oid

    def dump(self, obj: Any) -> bytes | None:
        return None if obj == NULL else b"\x01" + obj


@dataclass(frozen=True)
class RecordShape:
    """How the records of one InsertRecords shape become COPY rows.

    Each row is the leading constants, the record's fields, then the other constants: the
    fields are ordered clustered columns first, so a plain sort of the rows puts them in the
    table's clustered order (`natural` says whether it does)."""

    columns: tuple[str, ...]
    copy_types: tuple[str, ...]
    decoder: msgspec.json.Decoder[list[Any]]
    head: tuple[int, ...]  # the constants (by their place among the batch's) before the fields
    tail: tuple[int, ...]  # and after them
    clustered: Any  # the clustered columns of a row (an itemgetter)
    natural: bool  # a row's own order is its clustered order, then its other columns

    @classmethod
    def of(cls, table: Table, fields: Sequence[tuple[str, str]],
           constants: Sequence[str]) -> RecordShape:
        key_of = dict(fields)
        clustered = [c for c in table.clustered_by if c in key_of]
        lead = []
        for column in table.clustered_by:
            if column not in constants:
                break
            lead.append(column)
        ordered = clustered + [c for c, _ in fields if c not in clustered]
        columns = (*lead, *ordered, *(c for c in constants if c not in lead))
        struct = msgspec.defstruct("Record", [
            (key_of[c], msgspec.Raw, NULL) if table.columns[c] == JSON
            else (key_of[c], FIELD_TYPES[table.columns[c]], None)
            for c in ordered], gc=False)  # flat values only: no cycles for the collector to chase
        in_rows = [c for c in table.clustered_by if c in columns]
        return cls(columns, tuple(COPY_TYPES[table.columns[c]] for c in columns),
                   msgspec.json.Decoder(list[struct]),  # type: ignore[valid-type]
                   tuple(constants.index(c) for c in lead),
                   tuple(i for i, c in enumerate(constants) if c not in lead),
                   itemgetter(*(columns.index(c) for c in in_rows)) if in_rows else None,
                   in_rows == [*lead, *clustered])

    def rows(self, batches: Sequence[Sequence[Any]],
             unique: Sequence[str] = ()) -> list[tuple[Any, ...]]:
        """Each batch is its constants' values (in `constants` order) and its records' JSON.
        With `unique` columns, one row per key: the last, as writing them in order would leave."""
        astuple = msgspec.structs.astuple
        rows: list[tuple[Any, ...]] = []
        for *values, records in batches:
            head, tail = (tuple(values[i] for i in self.head), tuple(values[i] for i in self.tail))
            rows += [head + astuple(record) + tail for record in self.decoder.decode(records)]
        if unique:
            key = itemgetter(*(self.columns.index(c) for c in unique))
            rows = list({key(row): row for row in rows}.values())
        if self.clustered is None:
            return rows
        # Comparing whole rows (C, no key function) is twice as fast; it reaches the columns
        # after the clustered ones only for rows equal in all of those, and a NULL or a JSON
        # value there cannot be compared: then sort by the clustered columns alone.
        if self.natural:
            try:
                rows.sort()
                return rows
            except TypeError:
                pass
        with suppress(TypeError):  # a NULL among the clustered columns: leave the order as it came
            rows.sort(key=self.clustered)
        return rows

    def copy(self, cur: Cursor[Any], table: str, rows: list[tuple[Any, ...]]) -> None:
        cur.adapters.register_dumper(msgspec.Raw, RawJsonbDumper)
        with cur.copy(f"COPY {table} ({', '.join(self.columns)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(list(self.copy_types))
            write = copy.write_row
            for row in rows:
                write(row)

