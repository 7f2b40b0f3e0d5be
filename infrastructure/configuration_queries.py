"""SQL over the configuration read models, and the stored events a dry run replays."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from infrastructure.database import Database
from projections.configuration import INSIGHTS, VIOLATIONS, ConfigurationQueries
from projections.model import from_micros
from projections.telemetry import EVENTS

REPLAY_PAGE = 5000


class SqlConfigurationQueries(ConfigurationQueries):
    def __init__(self, db: Database):
        self.db = db

    def saved_insights(self, workspace_id: UUID) -> list[dict[str, Any]]:
        rows = self.db.query(
            f"SELECT name, type, definition, deploy_version, deployed_at FROM {INSIGHTS.name} "
            "WHERE workspace_id = %s ORDER BY name", [str(workspace_id)])
        return [{**row, "definition": self.db.load_json(row["definition"]),
                 "deployed_at": from_micros(row["deployed_at"])} for row in rows]

    def plan_violations(self, workspace_id: UUID, from_us: int | None,
                        to_us: int | None) -> list[dict[str, Any]]:
        where: list[str] = ["workspace_id = %s"]
        params: list[Any] = [str(workspace_id)]
        for condition, value in (("observed_at >= %s", from_us), ("observed_at < %s", to_us)):
            if value is not None:
                where.append(condition)
                params.append(value)
        rows = self.db.query(
            "SELECT event_name, SUM(count) AS count, MAX(observed_at) AS last_seen, "
            "MAX(plan_version) AS plan_version, "
            "SUM(CASE WHEN policy = 'reject' THEN count ELSE 0 END) AS rejected "
            f"FROM {VIOLATIONS.name} WHERE {' AND '.join(where)} "
            "GROUP BY event_name ORDER BY count DESC, event_name", params)
        return [{**row, "count": int(row["count"]), "rejected": int(row["rejected"]),
                 "last_seen": from_micros(row["last_seen"])} for row in rows]


class SqlStoredEvents:
    """A workspace's stored events, oldest first, a page at a time (application/deploys.py
    StoredEvents): what a dry run replays against a tracking plan."""

    def __init__(self, db: Database):
        self.db = db

    def names_and_properties(self, workspace_id: UUID, from_us: int,
                             to_us: int) -> Iterator[tuple[str, dict[str, Any] | None]]:
        after: tuple[int, str] = (from_us - 1, "")
        while True:
            rows = self.db.query(
                f"SELECT name, properties, timestamp, event_id FROM {EVENTS.name} "
                "WHERE workspace_id = %s AND timestamp < %s "
                "AND (timestamp > %s OR (timestamp = %s AND event_id > %s)) "
                "ORDER BY timestamp, event_id LIMIT %s",
                [str(workspace_id), to_us, after[0], after[0], after[1], REPLAY_PAGE])
            for row in rows:
                yield row["name"], self.db.load_json(row["properties"])
            if len(rows) < REPLAY_PAGE:
                return
            after = (rows[-1]["timestamp"], rows[-1]["event_id"])
