"""Alert rules and evaluation positions in SQL (one statement for both backends)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.time import from_micros, micros
from infrastructure.analytics_queries import SqlAnalyticsQueries
from infrastructure.database import Database
from infrastructure.read_models import create_statements
from projections.alerts import ALERTS, AlertPage, AlertQueries
from projections.analytics import EventQuery, FilterOp, Metric, PropertyFilter
from projections.model import BIGINT, TEXT, Table

POSITIONS = Table(name="alert_evaluation_positions",
                  columns={"name": TEXT, "position": BIGINT}, primary_key=("name",))


class SqlAlertQueries(AlertQueries):
    def __init__(self, db: Database):
        self.db = db

    def list_alerts(self, workspace_id: str, after: tuple[int, str] | None,
                    limit: int) -> AlertPage:
        where = "workspace_id = %s AND deleted_at IS NULL"
        params: list[Any] = [workspace_id]
        if after is not None:
            where += " AND (created_at > %s OR (created_at = %s AND id > %s))"
            params += [after[0], after[0], after[1]]
        rows = self.db.query(f"SELECT id, created_at FROM {ALERTS.name} WHERE {where} "
                             "ORDER BY created_at, id LIMIT %s", [*params, limit + 1])
        items = rows[:limit]
        more = len(rows) > limit
        last = (int(items[-1]["created_at"]), items[-1]["id"]) if more and items else None
        return AlertPage(items=items, has_more=more, next_cursor=last)

    def rules(self, kind: str, workspace_id: str | None = None) -> list[dict[str, Any]]:
        where, params = "kind = %s AND deleted_at IS NULL", [kind]
        if workspace_id is not None:
            where += " AND workspace_id = %s"
            params.append(workspace_id)
        rows = self.db.query(f"SELECT id, workspace_id, condition FROM {ALERTS.name} "
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
            for statement in create_statements(POSITIONS, self.db.dialect):
                cur.execute(statement)

    def get(self, name: str) -> int | None:
        rows = self.db.query(f"SELECT position FROM {POSITIONS.name} WHERE name = %s", [name])
        return int(rows[0]["position"]) if rows else None

    def put(self, name: str, value: int) -> None:
        with self.db.transaction() as cur:
            cur.execute(f"INSERT INTO {POSITIONS.name} (name, position) VALUES (%s, %s) "
                        "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                        [name, value])


def event_query(workspace_id: str, condition: dict[str, Any], start: int, end: int) -> EventQuery:
    """A threshold condition as a question to the analytics engine, over [start, end) µs."""
    return EventQuery(
        workspace_id=workspace_id, event=condition["event"], start=start, end=end,
        metric=Metric(condition["metric"]),
        filters=tuple(PropertyFilter(f["key"], FilterOp(f["op"]), f["value"])
                      for f in condition["filters"]))


class SqlThresholdMeter:
    """Threshold conditions measured by the SQL analytics engine (the projections' vocabulary)."""

    def __init__(self, analytics: SqlAnalyticsQueries):
        self.analytics = analytics

    def value(self, workspace_id: str, condition: dict[str, Any], at: datetime) -> float:
        end = micros(at) + 1  # the window is (at - window, at]
        start = end - condition["window_seconds"] * 1_000_000
        return self.analytics.metric(event_query(workspace_id, condition, start, end))

    def instants(self, workspace_id: str, condition: dict[str, Any], start: datetime,
                 end: datetime) -> list[datetime]:
        query = event_query(workspace_id, condition, micros(start), micros(end) + 1)
        return [from_micros(t) for t in self.analytics.instants(query)]
