"""Alert rules and evaluation positions in SQL (one statement for both backends)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infrastructure.database import Database
from infrastructure.read_model_dialects import dialect_of
from projections.alert_activity import ACTIVITY, ActivityPage, AlertActivity, activity_key
from projections.alerts import ALERTS, AlertPage, AlertQueries
from projections.model import BIGINT, TEXT, Table

POSITIONS = Table(name="alert_evaluation_positions",
                  columns={"name": TEXT, "position": BIGINT}, primary_key=("name",))


class SqlAlertQueries(AlertQueries):
    def __init__(self, db: Database):
        self.db = db

    def list_alerts(self, workspace_id: str, after: tuple[int, str] | None,
                    limit: int, state: str | None = None) -> AlertPage:
        where = "workspace_id = %s AND deleted_at IS NULL"
        params: list[Any] = [workspace_id]
        if state is not None:
            where += " AND state = %s"
            params.append(state)
        total = self.db.query(f"SELECT COUNT(*) AS n FROM {ALERTS.name} WHERE {where}",
                              params)[0]["n"]
        if after is not None:
            where += " AND (created_at > %s OR (created_at = %s AND id > %s))"
            params += [after[0], after[0], after[1]]
        rows = self.db.query(f"SELECT id, created_at FROM {ALERTS.name} WHERE {where} "
                             "ORDER BY created_at, id LIMIT %s", [*params, limit + 1])
        items = rows[:limit]
        more = len(rows) > limit
        last = (int(items[-1]["created_at"]), items[-1]["id"]) if more and items else None
        return AlertPage(items=items, has_more=more, next_cursor=last, total=int(total))

    def rule_ids(self, workspace_id: str) -> list[str]:
        rows = self.db.query(f"SELECT id FROM {ALERTS.name} "
                             "WHERE workspace_id = %s AND deleted_at IS NULL", [workspace_id])
        return [row["id"] for row in rows]

    def rules(self, kind: str, workspace_id: str | None = None) -> list[dict[str, Any]]:
        where, params = "kind = %s AND deleted_at IS NULL", [kind]
        if workspace_id is not None:
            where += " AND workspace_id = %s"
            params.append(workspace_id)
        rows = self.db.query(f"SELECT id, workspace_id, condition, created_at FROM {ALERTS.name} "
                             f"WHERE {where} ORDER BY id", params)
        for row in rows:
            row["condition"] = self.db.load_json(row["condition"])
        return rows


class SqlEvaluationPositions:
    """Where alert evaluation got to, beside the alerts' read model."""

    def __init__(self, db: Database):
        self.db = db

    def create_tables(self) -> None:
        with self.db.transaction() as cur:
            for statement in dialect_of(self.db).create_statements(POSITIONS):
                cur.execute(statement)

    def get(self, name: str) -> int | None:
        rows = self.db.query(f"SELECT position FROM {POSITIONS.name} WHERE name = %s", [name])
        return int(rows[0]["position"]) if rows else None

    def put(self, name: str, value: int) -> None:
        self.put_all({name: value})

    def put_all(self, values: Mapping[str, int]) -> None:
        with self.db.transaction() as cur:
            for name, value in values.items():
                cur.execute(f"INSERT INTO {POSITIONS.name} (name, position) VALUES (%s, %s) "
                            "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                            [name, value])



class SqlAlertActivity(AlertActivity):
    """A workspace's alert state changes, newest first, by the `(workspace_id, at)` index."""

    def __init__(self, db: Database):
        self.db = db

    def activity(self, workspace_id: str, start_us: int, end_us: int | None,
                 before: tuple[int, str] | None, limit: int) -> ActivityPage:
        where = "workspace_id = %s AND at >= %s"
        params: list[Any] = [workspace_id, start_us]
        if end_us is not None:
            where += " AND at < %s"
            params.append(end_us)
        if before is not None:
            alert_id, _, version = before[1].partition("/")
            where += (" AND (at < %s OR (at = %s AND (alert_id < %s OR (alert_id = %s "
                      "AND version < %s))))")
            params += [before[0], before[0], alert_id, alert_id, int(version or 0)]
        rows = self.db.query(
            f"SELECT alert_id, version, name, state, at, value, notified, suppressed, cause "
            f"FROM {ACTIVITY.name} WHERE {where} "
            "ORDER BY at DESC, alert_id DESC, version DESC LIMIT %s", [*params, limit + 1])
        items = rows[:limit]
        for row in items:
            row["notified"] = self.db.load_json(row["notified"]) or []
            row["cause"] = self.db.load_json(row["cause"])
        more = len(rows) > limit
        cursor = activity_key(items[-1]) if more and items else None
        return ActivityPage(items=items, has_more=more, next_cursor=cursor)
