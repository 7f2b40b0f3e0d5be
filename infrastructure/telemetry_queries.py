"""SQL over the telemetry read models: sessions, their timelines, exception groups, quiet sessions.

Portable SQL (`%s` placeholders, window functions) that runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from infrastructure.database import Database, Row
from infrastructure.enrichment_queries import enriched_columns, enrichment_join, enrichment_of
from projections.model import from_micros
from projections.telemetry import ACTIVITY, EVENTS, EXCEPTIONS, SESSIONS, TelemetryQueries

SESSION_COLUMNS = ("s.workspace_id, s.session_id, s.actor_id, s.source_app, s.source_version, "
                   "s.started_at, s.ended_at, s.end_reason, a.last_activity_at")
SESSION_JOIN = (f"{SESSIONS.name} s LEFT JOIN {ACTIVITY.name} a "
                "ON a.workspace_id = s.workspace_id AND a.session_id = s.session_id")


DAY_MICROS = 86_400_000_000


def _marks(values: list[Any]) -> str:
    return ", ".join(["%s"] * len(values))


class SqlTelemetryQueries(TelemetryQueries):
    def __init__(self, db: Database):
        self.db = db

    def quiet_sessions(self, before_us: int, limit: int = 500) -> list[Row]:
        """Open sessions whose latest activity is older than `before_us`, oldest first."""
        rows = self.db.query(
            f"SELECT s.workspace_id, s.session_id, COALESCE(a.last_activity_at, s.started_at) AS last "
            f"FROM {SESSION_JOIN} WHERE s.ended_at IS NULL "
            "AND COALESCE(a.last_activity_at, s.started_at) < %s ORDER BY last LIMIT %s",
            [before_us, limit])
        return [{**row, "last": from_micros(row["last"])} for row in rows]

    def count_events(self, workspace_id: str) -> int:
        rows = self.db.query(f"SELECT COUNT(*) AS n FROM {EVENTS.name} WHERE workspace_id = %s",
                             [workspace_id])
        return int(rows[0]["n"])

    def session(self, workspace_id: UUID, session_id: str) -> Row | None:
        rows = self.db.query(f"SELECT {SESSION_COLUMNS} FROM {SESSION_JOIN} "
                             "WHERE s.workspace_id = %s AND s.session_id = %s",
                             [str(workspace_id), session_id])
        return rows[0] if rows else None

    def sessions(self, workspace_id: UUID, *, actor_id: str | None, from_us: int | None,
                 to_us: int | None, after: tuple[int, str] | None, limit: int) -> tuple[list[Row], bool]:
        where: list[str] = ["s.workspace_id = %s"]
        params: list[Any] = [str(workspace_id)]
        for condition, value in (("s.actor_id = %s", actor_id), ("s.started_at >= %s", from_us),
                                 ("s.started_at < %s", to_us)):
            if value is not None:
                where.append(condition)
                params.append(value)
        if after is not None:
            where.append("(s.started_at < %s OR (s.started_at = %s AND s.session_id < %s))")
            params += [after[0], after[0], after[1]]
        rows = self.db.query(f"SELECT {SESSION_COLUMNS} FROM {SESSION_JOIN} WHERE {' AND '.join(where)} "
                             "ORDER BY s.started_at DESC, s.session_id DESC LIMIT %s", [*params, limit + 1])
        return rows[:limit], len(rows) > limit

    def session_events(self, workspace_id: UUID, session_ids: list[str], *, first: int,
                       after: tuple[int, str] | None) -> dict[str, tuple[list[Row], bool]]:
        """Each session's timeline page (timestamp order), for many sessions in one query."""
        params: list[Any] = [str(workspace_id), *session_ids]
        window = ""
        if after is not None:
            window = "AND (ev.timestamp > %s OR (ev.timestamp = %s AND ev.event_id > %s))"
            params += [after[0], after[0], after[1]]
        rows = self.db.query(
            "SELECT * FROM (SELECT ev.session_id, ev.event_id, ev.name, ev.category, ev.actor_id, "
            "ev.source_app, ev.source_version, ev.timestamp, ev.received_at, ev.properties, "
            f"{enriched_columns('en')}, ROW_NUMBER() OVER "
            "(PARTITION BY ev.session_id ORDER BY ev.timestamp, ev.event_id) AS n "
            f"FROM {EVENTS.name} ev {enrichment_join('en', 'ev.event_id', 'ev.workspace_id', 'events')} "
            f"WHERE ev.workspace_id = %s AND ev.session_id IN ({_marks(session_ids)}) "
            f"{window}) page WHERE n <= %s ORDER BY session_id, n", [*params, first + 1])
        found: dict[str, list[Row]] = {session_id: [] for session_id in session_ids}
        for row in rows:
            row = dict(row)
            row["enrichment"] = enrichment_of(row)
            found[row["session_id"]].append({**row, "properties": self.db.load_json(row["properties"])})
        return {sid: (events[:first], len(events) > first) for sid, events in found.items()}

    def exception_groups(self, workspace_id: UUID, *, from_us: int, to_us: int,
                         source_app: str | None, after: tuple[int, str] | None,
                         limit: int) -> tuple[list[Row], bool]:
        """Reports grouped by fingerprint, most frequent first, with the latest of each group."""
        where = ["workspace_id = %s", "occurred_at >= %s", "occurred_at < %s"]
        params: list[Any] = [str(workspace_id), from_us, to_us]
        if source_app is not None:
            where.append("source_app = %s")
            params.append(source_app)
        having, having_params = "", []
        if after is not None:
            having = "HAVING COUNT(*) < %s OR (COUNT(*) = %s AND fingerprint > %s)"
            having_params = [after[0], after[0], after[1]]
        scope = " AND ".join(where)
        groups = self.db.query(
            "SELECT fingerprint, COUNT(*) AS count, COUNT(DISTINCT actor_id) AS actors, "
            "MIN(occurred_at) AS first_seen, MAX(occurred_at) AS last_seen, MIN(severity) AS severity "
            f"FROM {EXCEPTIONS.name} WHERE {scope} GROUP BY fingerprint {having} "
            "ORDER BY count DESC, fingerprint LIMIT %s", [*params, *having_params, limit + 1])
        groups, has_more = groups[:limit], len(groups) > limit
        if groups:
            self._add_latest_and_versions(groups, scope, params)
        return groups, has_more

    def exception_days(self, workspace_id: UUID, fingerprints: list[str], *, from_us: int,
                       to_us: int) -> dict[str, list[int]]:
        days = max(1, -(-(to_us - from_us) // DAY_MICROS))
        found = {f: [0] * days for f in fingerprints}
        if not fingerprints:
            return found
        rows = self.db.query(
            f"SELECT fingerprint, (occurred_at - %s) / {DAY_MICROS} AS day, COUNT(*) AS n "
            f"FROM {EXCEPTIONS.name} WHERE workspace_id = %s AND occurred_at >= %s AND occurred_at < %s "
            f"AND fingerprint IN ({_marks(fingerprints)}) GROUP BY 1, 2",
            [from_us, str(workspace_id), from_us, to_us, *fingerprints])
        for row in rows:
            found[row["fingerprint"]][int(row["day"])] = int(row["n"])
        return found

    def _add_latest_and_versions(self, groups: list[Row], scope: str, params: list[Any]) -> None:
        fingerprints = [g["fingerprint"] for g in groups]
        in_page = f"{scope} AND fingerprint IN ({_marks(fingerprints)})"
        latest = self.db.query(
            "SELECT * FROM (SELECT fingerprint, exception_type, message, stack_trace, breadcrumbs, "
            "ROW_NUMBER() OVER (PARTITION BY fingerprint ORDER BY occurred_at DESC, exception_id DESC) "
            f"AS n FROM {EXCEPTIONS.name} WHERE {in_page}) latest WHERE n = 1",
            [*params, *fingerprints])
        versions = self.db.query(f"SELECT DISTINCT fingerprint, source_version FROM {EXCEPTIONS.name} "
                                 f"WHERE {in_page} ORDER BY source_version", [*params, *fingerprints])
        by_fingerprint = {row["fingerprint"]: row for row in latest}
        for group in groups:
            row = by_fingerprint[group["fingerprint"]]
            group.update(exception_type=row["exception_type"], message=row["message"],
                         stack_trace=row["stack_trace"],
                         breadcrumbs=self.db.load_json(row["breadcrumbs"]),
                         versions=[v["source_version"] for v in versions
                                   if v["fingerprint"] == group["fingerprint"]])
