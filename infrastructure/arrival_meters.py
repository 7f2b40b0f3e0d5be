"""The meters of exception-group and monitor rules: they count what Beacon received (reports, a
monitor's outages) by when it was recorded, so a value as known then is the value now."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.time import from_micros, micros
from infrastructure.database import Database
from projections.monitors import MONITORS, OUTAGES
from projections.telemetry import EXCEPTIONS

MAX_CAUSE_GROUPS = 10  # exception groups named in a firing


def window_of(condition: dict[str, Any], at: datetime) -> tuple[int, int]:
    """(start, end] in µs of the window ending at `at`."""
    end = micros(at)
    return end - condition["window_seconds"] * 1_000_000, end


class CountedOnArrival:
    """A meter whose every value counts things by when Beacon received them: what was there at
    an instant is what live evaluation saw, so the value as known then is the value."""

    def value(self, workspace_id: str, condition: dict[str, Any], at: datetime) -> float:
        raise NotImplementedError

    def values(self, workspace_id: str, condition: dict[str, Any],
               instants: list[datetime]) -> list[float]:
        return [self.value(workspace_id, condition, at) for at in instants]

    def known_values(self, workspace_id: str, condition: dict[str, Any],
                     instants: list[datetime], settle: timedelta) -> list[float]:
        return self.values(workspace_id, condition, instants)


class SqlExceptionGroupMeter(CountedOnArrival):
    """Exception groups (reports of one fingerprint, by when they were received)."""

    def __init__(self, db: Database):
        self.db = db

    def value(self, workspace_id: str, condition: dict[str, Any], at: datetime) -> float:
        start, end = window_of(condition, at)
        trigger, table = condition["trigger"], EXCEPTIONS.name
        if trigger == "over":  # the most reports of one group in the window
            sql = (f"SELECT COALESCE(MAX(n), 0) AS v FROM (SELECT COUNT(*) AS n FROM {table} "
                   "WHERE workspace_id = %s AND received_at > %s AND received_at <= %s "
                   "GROUP BY fingerprint) g")
            params: list[Any] = [workspace_id, start, end]
        elif trigger == "new":  # groups first seen in the window
            sql = (f"SELECT COUNT(*) AS v FROM (SELECT MIN(received_at) AS first FROM {table} "
                   "WHERE workspace_id = %s AND received_at <= %s GROUP BY fingerprint) g "
                   "WHERE g.first > %s")
            params = [workspace_id, end, start]
        else:  # regressed: back in the window after `quiet_seconds` without a report
            quiet = start - condition["quiet_seconds"] * 1_000_000
            sql = (f"SELECT COUNT(DISTINCT e.fingerprint) AS v FROM {table} e "
                   "WHERE e.workspace_id = %s AND e.received_at > %s AND e.received_at <= %s "
                   f"AND EXISTS (SELECT 1 FROM {table} o WHERE o.workspace_id = e.workspace_id "
                   "AND o.fingerprint = e.fingerprint AND o.received_at <= %s) "
                   f"AND NOT EXISTS (SELECT 1 FROM {table} q WHERE q.workspace_id = e.workspace_id "
                   "AND q.fingerprint = e.fingerprint AND q.received_at > %s "
                   "AND q.received_at <= %s)")
            params = [workspace_id, start, end, quiet, quiet, start]
        return float(self.db.query(sql, params)[0]["v"])

    def cause(self, workspace_id: str, condition: dict[str, Any],
              at: datetime) -> dict[str, Any] | None:
        """The groups the value counted (for `over`, those past it), the most reports first, at
        most MAX_CAUSE_GROUPS: each `{fingerprint, exception_type, message, reports}`, its
        reports and its latest type and message in the window."""
        start, end = window_of(condition, at)
        table, trigger = EXCEPTIONS.name, condition["trigger"]
        if trigger == "over":
            which, params = ("SELECT fingerprint FROM " + table + " WHERE workspace_id = %s "
                             "AND received_at > %s AND received_at <= %s GROUP BY fingerprint "
                             "HAVING COUNT(*) > %s", [workspace_id, start, end, condition["value"]])
        elif trigger == "new":
            which, params = ("SELECT fingerprint FROM " + table + " WHERE workspace_id = %s "
                             "AND received_at <= %s GROUP BY fingerprint HAVING MIN(received_at) > %s",
                             [workspace_id, end, start])
        else:
            quiet = start - condition["quiet_seconds"] * 1_000_000
            which, params = (
                f"SELECT DISTINCT e.fingerprint FROM {table} e WHERE e.workspace_id = %s "
                "AND e.received_at > %s AND e.received_at <= %s "
                f"AND EXISTS (SELECT 1 FROM {table} o WHERE o.workspace_id = e.workspace_id "
                "AND o.fingerprint = e.fingerprint AND o.received_at <= %s) "
                f"AND NOT EXISTS (SELECT 1 FROM {table} q WHERE q.workspace_id = e.workspace_id "
                "AND q.fingerprint = e.fingerprint AND q.received_at > %s AND q.received_at <= %s)",
                [workspace_id, start, end, quiet, quiet, start])
        rows = self.db.query(
            f"SELECT r.fingerprint, COUNT(*) AS reports, MAX(r.received_at) AS latest "
            f"FROM {table} r WHERE r.workspace_id = %s AND r.received_at > %s "
            f"AND r.received_at <= %s AND r.fingerprint IN ({which}) GROUP BY r.fingerprint "
            "ORDER BY reports DESC, r.fingerprint LIMIT %s",
            [workspace_id, start, end, *params, MAX_CAUSE_GROUPS])
        groups = []
        for row in rows:
            latest = self.db.query(
                f"SELECT exception_type, message FROM {table} WHERE workspace_id = %s "
                "AND fingerprint = %s AND received_at = %s ORDER BY exception_id LIMIT 1",
                [workspace_id, row["fingerprint"], row["latest"]])[0]
            groups.append({"fingerprint": row["fingerprint"], "reports": int(row["reports"]),
                           "exception_type": latest["exception_type"],
                           "message": latest["message"]})
        return {"groups": groups}

    def instants(self, workspace_id: str, condition: dict[str, Any], start: datetime,
                 end: datetime) -> list[datetime]:
        rows = self.db.query(
            f"SELECT DISTINCT received_at FROM {EXCEPTIONS.name} WHERE workspace_id = %s "
            "AND received_at >= %s AND received_at <= %s ORDER BY 1",
            [workspace_id, micros(start), micros(end)])
        return [from_micros(int(r["received_at"])) for r in rows]


class SqlMonitorMeter(CountedOnArrival):
    """Heartbeat monitors of the rule's own workspace, by their outages (down periods)."""

    def __init__(self, db: Database):
        self.db = db

    def value(self, workspace_id: str, condition: dict[str, Any], at: datetime) -> float:
        start, end = window_of(condition, at)
        if condition["trigger"] == "down":  # down at `at`
            when, params = ("o.started_at <= %s AND (o.ended_at IS NULL OR o.ended_at > %s)",
                            [end, end])
        else:  # back up within the window
            when, params = "o.ended_at > %s AND o.ended_at <= %s", [start, end]
        rows = self.db.query(
            f"SELECT COUNT(*) AS v FROM {OUTAGES.name} o JOIN {MONITORS.name} m "
            f"ON m.id = o.monitor_id WHERE m.id = %s AND m.workspace_id = %s AND {when}",
            [condition["monitor_id"], workspace_id, *params])
        return float(rows[0]["v"])

    def cause(self, workspace_id: str, condition: dict[str, Any],
              at: datetime) -> dict[str, Any] | None:
        """The monitor, by its name as it was then known."""
        rows = self.db.query(f"SELECT id, name FROM {MONITORS.name} WHERE id = %s "
                             "AND workspace_id = %s", [condition["monitor_id"], workspace_id])
        return {"monitor": {"id": rows[0]["id"], "name": rows[0]["name"]}} if rows else None

    def instants(self, workspace_id: str, condition: dict[str, Any], start: datetime,
                 end: datetime) -> list[datetime]:
        rows = self.db.query(
            f"SELECT o.started_at, o.ended_at FROM {OUTAGES.name} o JOIN {MONITORS.name} m "
            "ON m.id = o.monitor_id WHERE m.id = %s AND m.workspace_id = %s",
            [condition["monitor_id"], workspace_id])
        moments = {int(r[c]) for r in rows for c in ("started_at", "ended_at") if r[c] is not None}
        return sorted(from_micros(t) for t in moments if micros(start) <= t <= micros(end))
