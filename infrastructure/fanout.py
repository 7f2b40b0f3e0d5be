"""The SQL of a `Fanout`: one INSERT … SELECT over another of the projection's tables.

It runs inside the page's transaction, so the rows it makes commit with the tracking position.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from projections.model import Fanout, Lookup, Table


def fanout_statement(op: Fanout, table: Table, types: dict[str, str], suffix: str,
                     adapt: Callable[[str, Any], Any]) -> tuple[str, list[Any]]:
    """The statement and parameters inserting one `table` row per matching row of `op.source`."""
    # Typed casts: PostgreSQL cannot infer a parameter's type from a bare select list.
    values = [f"CAST(%s AS {types[table.columns[c]]})" for c in op.row]
    params: list[Any] = [adapt(c, v) for c, v in op.row.items()]
    where = []
    for column, wanted in op.match.items():
        if wanted is None:
            where.append(f"s.{column} IS NULL")
        elif isinstance(wanted, Lookup):
            condition = " AND ".join(f"{k} = %s" for k in wanted.key)
            where.append(f"s.{column} {'IN' if wanted.many else '='} (SELECT {wanted.column} "
                         f"FROM {wanted.table + suffix} WHERE {condition})")
            params += list(wanted.key.values())
        else:
            where.append(f"s.{column} = %s")
            params.append(wanted)
    columns = [*op.row, *op.copy]
    selected = [*values, *(f"s.{c}" for c in op.copy.values())]
    sql = (f"INSERT INTO {table.name + suffix} ({', '.join(columns)}) "
           f"SELECT {', '.join(selected)} FROM {op.source + suffix} s "
           f"WHERE {' AND '.join(where) or '1 = 1'} "
           f"ON CONFLICT ({', '.join(table.primary_key)}) DO NOTHING")
    return sql, params
