"""SQL for the monitor activity read model: signals, runs and status changes of one workspace's
monitors (each query joins the monitors table to filter by workspace)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from infrastructure.database import Database
from projections.model import from_micros
from projections.monitor_activity import BEATS, FLIPS, RUNS, MonitorActivityQueries
from projections.monitors import MONITORS

OWNED = f"JOIN {MONITORS.name} m ON m.id = t.monitor_id AND m.workspace_id = %s"


def _times(row: dict[str, Any], *columns: str) -> dict[str, Any]:
    return {**row, **{c: from_micros(row[c]) for c in columns}}


class SqlMonitorActivityQueries(MonitorActivityQueries):
    def __init__(self, db: Database):
        self.db = db

    def beats(self, workspace_id: UUID, monitor_id: UUID, *, kind: str | None,
              before: int | None, limit: int) -> list[dict[str, Any]]:
        conditions = [("t.kind = %s", [kind]) if kind is not None else None,
                      ("t.version < %s", [before]) if before is not None else None]
        return self._newest("beats", workspace_id, monitor_id, conditions, limit)

    def runs(self, workspace_id: UUID, monitor_id: UUID, *, before: tuple[int, str] | None,
             limit: int) -> list[dict[str, Any]]:
        after = ("(t.started_at < %s OR (t.started_at = %s AND t.rid_key < %s))",
                 [before[0], before[0], before[1]]) if before is not None else None
        return self._newest("runs", workspace_id, monitor_id, [after], limit)

    def flips(self, workspace_id: UUID, monitor_id: UUID, *, before: int | None,
              limit: int) -> list[dict[str, Any]]:
        after = ("t.version < %s", [before]) if before is not None else None
        return self._newest("flips", workspace_id, monitor_id, [after], limit)

    def _newest(self, what: str, workspace_id: UUID, monitor_id: UUID,
                conditions: list[tuple[str, list[Any]] | None], limit: int
                ) -> list[dict[str, Any]]:
        """One monitor's rows of `what`, newest first, meeting the given conditions."""
        table, order, shape = LATEST[what]
        given = [c for c in conditions if c is not None]
        where = " AND ".join(["t.monitor_id = %s", *(sql for sql, _ in given)])
        params = [str(workspace_id), str(monitor_id), *(p for _, values in given for p in values)]
        rows = self.db.query(f"SELECT t.* FROM {table} t {OWNED} WHERE {where} "
                             f"ORDER BY {order} LIMIT %s", [*params, limit])
        return [shape(r) for r in rows]

    def latest(self, what: str, workspace_id: UUID, monitor_ids: list[UUID], limit: int,
               kind: str | None = None) -> dict[UUID, list[dict[str, Any]]]:
        found: dict[UUID, list[dict[str, Any]]] = {i: [] for i in monitor_ids}
        if not monitor_ids:
            return found
        table, order, shape = LATEST[what]
        marks = ", ".join(["%s"] * len(monitor_ids))
        of_kind = " AND t.kind = %s" if kind is not None else ""
        rows = self.db.query(
            "SELECT * FROM (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY t.monitor_id "
            f"ORDER BY {order}) AS n FROM {table} t {OWNED} "
            f"WHERE t.monitor_id IN ({marks}){of_kind}) ranked WHERE n <= %s "
            "ORDER BY monitor_id, n",
            [str(workspace_id), *(str(i) for i in monitor_ids),
             *([kind] if kind is not None else []), limit])
        for row in rows:
            row.pop("n")
            found[UUID(row["monitor_id"])].append(shape(row))
        return found


def _run(row: dict[str, Any]) -> dict[str, Any]:
    run = _times(row, "started_at", "ended_at")
    ended = row["ended_at"]
    run["duration_ms"] = (ended - row["started_at"]) // 1000 if ended is not None else None
    run["rid"] = row["rid_key"] or None
    run["timed_out"] = bool(row["timed_out"])
    return run


LATEST: dict[str, tuple[str, str, Any]] = {
    "beats": (BEATS.name, "t.version DESC", lambda r: _times(r, "at")),
    "runs": (RUNS.name, "t.started_at DESC, t.rid_key DESC", _run),
    "flips": (FLIPS.name, "t.version DESC", lambda r: _times(r, "at", "recorded_at")),
}
