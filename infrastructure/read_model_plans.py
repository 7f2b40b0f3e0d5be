"""A page's read-model operations as write steps, prepared without touching the database.

A rebuild prepares the next page on another thread while this one is written. Consecutive rows
for one table go together: one executemany, or COPY when there are many; so do the records of
consecutive InsertRecords where the backend decodes them (see `Records`). A page's AddCounts are
summed per key into one `Counts` step per table, after everything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import orjson

from infrastructure.nul_text import json_without_nul
from infrastructure.read_model_dialects import ReadModelDialect
from projections.model import JSON, AddCounts, InsertRecords, Op, Table, Upsert

Shape = tuple[str, tuple[str, ...]]  # a table and the columns of its rows


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


@dataclass
class Counts:
    """A page's AddCounts to one table, summed per key: each row is the key's values, then the
    amount to add to `column`. Keys go in sorted order, so writers adding to the same rows side
    by side (a rebuild's) lock them in one order and never deadlock."""

    table: Table
    key: tuple[str, ...]
    column: str
    rows: list[list[Any]]


class Plan(list[Rows | Records | Counts | Op]):
    """A page's writes in order, prepared: batches of rows, and operations run one by one."""

    @property
    def order_free(self) -> bool:
        """Nothing but inserts of keys that occur once and counts (which commute): pages of
        these may commit in any order."""
        return all(isinstance(step, Counts) or (isinstance(step, Records) and step.deferred)
                   for step in self)

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


def add(totals: dict[tuple[Any, ...], int], counts: Mapping[tuple[Any, ...], int]) -> None:
    """Add `counts` into `totals`. Most keys of a batch are new to its page: those are copied in
    one C-level update, and only keys both hold are added one by one."""
    both = totals.keys() & counts.keys()
    earlier = {k: totals[k] for k in both}
    totals.update(counts)
    for k, n in earlier.items():
        totals[k] += n


class Planner:
    """Plans the pages of one projection's tables on one backend; `deferred` names the tables
    whose keys are built after loading (unique by contract)."""

    def __init__(self, tables: dict[str, Table], dialect: ReadModelDialect, deferred: set[str]):
        self.tables = tables
        self.dialect = dialect
        self.deferred = deferred

    def plan(self, ops: Iterable[Op]) -> Plan:
        plan = Plan()
        run: Shape | None = None
        rows: list[list[Any]] = []
        counts: dict[tuple[Any, ...], dict[tuple[Any, ...], int]] = {}
        written: set[str] = set()  # tables written by anything but AddCounts
        for op in ops:
            if isinstance(op, AddCounts):
                summed = (op.table, tuple(op.constants.items()), op.key, op.column)
                add(counts.setdefault(summed, {}), op.counts)
                continue
            written.add(op.table)
            if isinstance(op, InsertRecords) and self.dialect.decodes_records:
                plan.append_rows(self._rows(run, rows))
                run, rows = None, []
                plan.append_records(self.tables[op.table], op, deferred=op.table in self.deferred)
                continue
            if not isinstance(op, Upsert):  # not just rows to insert: run on its own
                plan.append_rows(self._rows(run, rows))
                run, rows = None, []
                plan.append(op)
                continue
            shape = (op.table, tuple(op.row))
            if shape != run:
                plan.append_rows(self._rows(run, rows))
                run, rows = shape, []
            rows.append(list(op.row.values()))
        plan.append_rows(self._rows(run, rows))
        for (table, constants, key, column), totals in counts.items():
            if table in written:
                raise ValueError(f"{table} receives AddCounts and other operations in one page")
            fixed = [value for _, value in constants]
            plan.append(Counts(self.tables[table], (*(c for c, _ in constants), *key), column,
                               [[*fixed, *k, totals[k]] for k in sorted(totals)]))
        return plan

    def _rows(self, shape: Shape | None, rows: list[list[Any]]) -> Rows | None:
        """Rows ready to write: for COPY, one per key (the last, as applying them in order would
        leave), JSON as text, in the table's clustered order."""
        if shape is None or not rows:
            return None
        table, columns = self.tables[shape[0]], shape[1]
        if self.dialect.copy_from is None or len(rows) < self.dialect.copy_from:
            return Rows(table, columns, rows, copy=False)
        for i, column in enumerate(columns):
            if table.columns[column] == JSON:  # COPY takes JSON as text; orjson beats the dumper
                for row in rows:
                    row[i] = None if row[i] is None else json_without_nul(orjson.dumps(row[i])).decode()
        if table.name not in self.deferred:  # a deferred key is unique by contract, checked later
            key = [columns.index(c) for c in table.primary_key]
            rows = list({tuple(row[i] for i in key): row for row in rows}.values())
        if table.clustered_by and set(table.clustered_by) <= set(columns):
            order = itemgetter(*(columns.index(c) for c in table.clustered_by))
            with suppress(TypeError):  # a NULL among them: leave the order as it came
                rows.sort(key=order)
        return Rows(table, columns, rows, copy=True)
