"""SQL over the telemetry read models that the write side needs (sessions gone quiet)."""

from __future__ import annotations

from infrastructure.database import Database
from projections.model import from_micros
from projections.telemetry import ACTIVITY, SESSIONS


class SqlTelemetryQueries:
    def __init__(self, db: Database):
        self.db = db

    def quiet_sessions(self, before_us: int, limit: int = 500) -> list[dict]:
        """Open sessions whose latest activity is older than `before_us`, oldest first."""
        rows = self.db.query(
            f"SELECT s.workspace_id, s.session_id, COALESCE(a.last_activity_at, s.started_at) AS last "
            f"FROM {SESSIONS.name} s LEFT JOIN {ACTIVITY.name} a "
            "ON a.workspace_id = s.workspace_id AND a.session_id = s.session_id "
            "WHERE s.ended_at IS NULL AND COALESCE(a.last_activity_at, s.started_at) < %s "
            "ORDER BY last LIMIT %s", [before_us, limit])
        return [{**row, "last": from_micros(row["last"])} for row in rows]

    def count_events(self, workspace_id: str) -> int:
        rows = self.db.query("SELECT COUNT(*) AS n FROM rm_events WHERE workspace_id = %s",
                             [workspace_id])
        return int(rows[0]["n"])
