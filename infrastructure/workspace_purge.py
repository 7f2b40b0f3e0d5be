"""Deleting a workspace's rows from every read model, on either backend (application/deletions.py).

Which rows are the workspace's comes from the tables' declarations (projections/model.py): a
`workspace_id` column, or parents through which a row finds its workspace (an incident's updates
through the incident). Children go before their parents, so that they can still be found; each
database's tables go in one transaction that first locks the tracking rows of the projections
writing them, so no page lands half before and half after the purge. Purging twice deletes
nothing the second time: a purge a crash interrupted is simply run again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from infrastructure.database import Cursor, Database
from infrastructure.read_model_dialects import dialect_of
from infrastructure.read_models import TRACKING
from projections.model import Projection, Table

WORKSPACE = "workspace_id"


@dataclass(frozen=True)
class PurgedTables:
    """The tables of one database whose rows a workspace owns, and who writes them."""

    db: Database
    tables: tuple[Table, ...]
    projections: tuple[str, ...]  # tracking names to lock while purging


def owned_rows(table: Table, by_name: dict[str, Table]) -> tuple[str, list[Any]]:
    """A WHERE condition (and its parameters, `None` for the workspace id) picking the rows of
    `table` that belong to one workspace."""
    if WORKSPACE in table.columns:
        return f"{WORKSPACE} = %s", [None]
    if not table.parents:
        raise ValueError(f"{table.name} has neither a workspace_id column nor parents")
    conditions, params = [], []
    for parent in table.parents:
        inner, inner_params = owned_rows(by_name[parent.table], by_name)
        conditions.append(f"{parent.column} IN (SELECT {parent.key} FROM {parent.table} "
                          f"WHERE {inner})")
        params.extend(inner_params)
    return " OR ".join(f"({c})" for c in conditions), params


def depth(table: Table, by_name: dict[str, Table]) -> int:
    """How far a table is from the workspace: children are purged before their parents."""
    return 0 if not table.parents else 1 + max(depth(by_name[p.table], by_name)
                                               for p in table.parents)


def purge_plan(databases: dict[str, Database], projections: Iterable[Projection],
               extra: Iterable[tuple[str, Table]] = ()) -> list[PurgedTables]:
    """Group the projections' tables that hold a workspace's rows (and `extra` tables, by the
    source whose database holds them) by database."""
    grouped: dict[int, tuple[Database, list[Table], list[str]]] = {}
    for projection in projections:
        db = databases[projection.source]
        entry = grouped.setdefault(id(db), (db, [], []))
        entry[1].extend(t for t in projection.tables if not t.shared)
        entry[2].append(projection.name)
    for source, table in extra:
        db = databases[source]
        grouped.setdefault(id(db), (db, [], []))[1].append(table)
    return [PurgedTables(db, tuple(tables), tuple(names))
            for db, tables, names in grouped.values() if tables]


class SqlWorkspacePurge:
    """The `ReadModelPurge` of application/deletions.py, over every read-model database."""

    def __init__(self, plan: Sequence[PurgedTables], catch_up: Any):
        self.plan = plan
        self._catch_up = catch_up  # brings every projection to the head of its log

    def catch_up(self) -> None:
        self._catch_up()

    def purge(self, workspace_id: UUID) -> dict[str, int]:
        rows: dict[str, int] = {}
        for part in self.plan:
            rows.update(self._purge_one(part, str(workspace_id)))
        return rows

    @staticmethod
    def _purge_one(part: PurgedTables, workspace_id: str) -> dict[str, int]:
        by_name = {t.name: t for t in part.tables}
        ordered = sorted(part.tables, key=lambda t: -depth(t, by_name))
        rows: dict[str, int] = {}
        with part.db.transaction() as cur:
            _hold_projections(cur, part)
            for table in ordered:
                condition, params = owned_rows(table, by_name)
                done = cur.execute(f"DELETE FROM {table.name} WHERE {condition}",
                                   [workspace_id if p is None else p for p in params])
                rows[table.name] = max(int(done.rowcount), 0)
        return rows


def _hold_projections(cur: Cursor, part: PurgedTables) -> None:
    """Wait for, then hold off, the runners of these tables (SQLite's write lock does it alone)."""
    lock = dialect_of(part.db).lock_row
    if lock and part.projections:
        marks = ", ".join(["%s"] * len(part.projections))
        cur.execute(f"SELECT position FROM {TRACKING} WHERE name IN ({marks}) ORDER BY name{lock}",
                    list(part.projections))
