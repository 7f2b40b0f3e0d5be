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
        where, params = ["t.monitor_id = %s"], list[Any]([str(monitor_id)])
        if kind is not None:
            where.append("t.kind = %s")
            params.append(kind)
        if before is not None:
            where.append("t.version < %s")
            params.append(before)
        rows = self.db.query(
            f"SELECT t.* FROM {BEATS.name} t {OWNED} WHERE {' AND '.join(where)} "
            "ORDER BY t.version DESC LIMIT %s", [str(workspace_id), *params, limit])
        return [_times(r, "at") for r in rows]

    def runs(self, workspace_id: UUID, monitor_id: UUID, *, before: tuple[int, str] | None,
             limit: int) -> list[dict[str, Any]]:
        where, params = ["t.monitor_id = %s"], list[Any]([str(monitor_id)])
        if before is not None:
            where.append("(t.started_at < %s OR (t.started_at = %s AND t.rid_key < %s))")
            params += [before[0], before[0], before[1]]
        rows = self.db.query(
            f"SELECT t.* FROM {RUNS.name} t {OWNED} WHERE {' AND '.join(where)} "
            "ORDER BY t.started_at DESC, t.rid_key DESC LIMIT %s",
            [str(workspace_id), *params, limit])
        return [_run(r) for r in rows]

    def flips(self, workspace_id: UUID, monitor_id: UUID, *, before: int | None,
              limit: int) -> list[dict[str, Any]]:
        where, params = ["t.monitor_id = %s"], list[Any]([str(monitor_id)])
        if before is not None:
            where.append("t.version < %s")
            params.append(before)
        rows = self.db.query(
            f"SELECT t.* FROM {FLIPS.name} t {OWNED} WHERE {' AND '.join(where)} "
            "ORDER BY t.version DESC LIMIT %s", [str(workspace_id), *params, limit])
        return [_times(r, "at", "recorded_at") for r in rows]

    def latest(self, what: str, workspace_id: UUID, monitor_ids: list[UUID],
               limit: int) -> dict[UUID, list[dict[str, Any]]]:
        found: dict[UUID, list[dict[str, Any]]] = {i: [] for i in monitor_ids}
        if not monitor_ids:
            return found
        table, order, shape = LATEST[what]
        marks = ", ".join(["%s"] * len(monitor_ids))
        rows = self.db.query(
            "SELECT * FROM (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY t.monitor_id "
            f"ORDER BY {order}) AS n FROM {table} t {OWNED} "
            f"WHERE t.monitor_id IN ({marks})) ranked WHERE n <= %s ORDER BY monitor_id, n",
            [str(workspace_id), *(str(i) for i in monitor_ids), limit])
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
