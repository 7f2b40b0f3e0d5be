"""The meters of exception-group and monitor rules: they count what Beacon received (reports, a
monitor's outages) by when it was recorded, so a value as known then is the value now."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
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

    def values(self, workspace_id: str, condition: dict[str, Any],
               instants: list[datetime]) -> list[float]:
        """`value` at each instant (ascending). A run judges an exception-group rule at every
        report it read, hundreds in a storm of errors, so each trigger is measured at all of
        them in one statement: `new` from each group's first report; `over` and `regressed`
        from each group's reports in the window at the first instant (and, for `regressed`, its
        latest report before that window), then the reports that entered and left it since."""
        if len(instants) < 2:
            return [self.value(workspace_id, condition, at) for at in instants]
        points, window = [micros(at) for at in instants], condition["window_seconds"] * 1_000_000
        trigger = condition["trigger"]
        if trigger == "new":
            rows = self.db.query(
                f"SELECT MIN(received_at) AS first FROM {EXCEPTIONS.name} WHERE workspace_id = %s "
                "AND received_at <= %s GROUP BY fingerprint HAVING MIN(received_at) > %s",
                [workspace_id, points[-1], points[0] - window])
            firsts = sorted(int(r["first"]) for r in rows)
            return [float(bisect_right(firsts, at) - bisect_right(firsts, at - window))
                    for at in points]
        reports = self._reports(workspace_id, points, window, latest=trigger == "regressed")
        if trigger == "over":
            return most_reports(reports, points, window)
        return regressed(reports, points, window, condition["quiet_seconds"] * 1_000_000)

    def _reports(self, workspace_id: str, points: list[int], window: int, *,
                 latest: bool) -> list[tuple[int, str, int]]:
        """In one statement (one snapshot): each group's reports in the window at the first
        point (part 0, a count), the reports that entered the window (part 1) and left it
        (part 2, each at its own time) up to the last point, and (`latest`, part 3) each
        group's latest report before the first point's window."""
        table, first, last = EXCEPTIONS.name, points[0], points[-1]
        where = "workspace_id = %s AND received_at > %s AND received_at <= %s"
        statement = (f"SELECT 0 AS part, fingerprint, COUNT(*) AS n FROM {table} WHERE {where} "
                     f"GROUP BY fingerprint UNION ALL SELECT 1, fingerprint, received_at FROM "
                     f"{table} WHERE {where} UNION ALL SELECT 2, fingerprint, received_at FROM "
                     f"{table} WHERE {where}")
        params: list[Any] = [workspace_id, first - window, first, workspace_id, first, last,
                             workspace_id, first - window, last - window]
        if latest:
            statement += (f" UNION ALL SELECT 3, fingerprint, MAX(received_at) FROM {table} "
                          "WHERE workspace_id = %s AND received_at <= %s GROUP BY fingerprint")
            params += [workspace_id, first - window]
        return [(int(r["part"]), str(r["fingerprint"]), int(r["n"]))
                for r in self.db.query(statement, params)]

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


def window_moves(reports: list[tuple[int, str, int]], window: int
                 ) -> tuple[dict[str, int], list[tuple[int, int, str, int]]]:
    """From `SqlExceptionGroupMeter._reports`: each group's reports in the window at the first
    point, and in time order the changes since: (when, +1 or -1, group, the report's time), a
    report entering the window at its time and leaving it at its time + window."""
    counts = {group: n for part, group, n in reports if part == 0}
    return counts, sorted([(at, 1, group, at) for part, group, at in reports if part == 1]
                          + [(at + window, -1, group, at) for part, group, at in reports
                             if part == 2])


def most_reports(reports: list[tuple[int, str, int]], points: list[int], window: int) -> list[float]:
    """The most reports of one group in the window at each point (ascending), from
    `SqlExceptionGroupMeter._reports`: the counts at the first point, then each report that
    entered the window (at its time) or left it (at its time + window) by the next point. How
    many groups have each count is kept, so the largest is known after every step."""
    counts, steps = window_moves(reports, window)
    groups_with = Counter(counts.values())
    most, step, found = max(counts.values(), default=0), 0, []
    for point in points:
        while step < len(steps) and steps[step][0] <= point:
            _, change, group, _ = steps[step]
            before = counts.get(group, 0)
            counts[group] = before + change
            groups_with[before] -= 1
            groups_with[before + change] += 1
            if before + change > most:
                most = before + change
            while most > 0 and groups_with[most] <= 0:
                most -= 1
            step += 1
        found.append(float(most))
    return found


def regressed(reports: list[tuple[int, str, int]], points: list[int], window: int,
              quiet: int) -> list[float]:
    """How many groups are back in the window at each point (ascending) after `quiet` without
    a report, from `SqlExceptionGroupMeter._reports`: a group counts at t when it has a report
    in (t - window, t] and its latest report at or before t - window exists and is at or before
    t - window - quiet. A report entering the window adds to its group's count; one leaving
    it (at its time + window) takes from it and becomes the group's latest before the window."""
    counts, steps = window_moves(reports, window)
    latest = {group: at for part, group, at in reports if part == 3}
    step, found = 0, []
    for point in points:
        while step < len(steps) and steps[step][0] <= point:
            _, change, group, at = steps[step]
            counts[group] = counts.get(group, 0) + change
            if change < 0:
                latest[group] = max(at, latest.get(group, at))
            step += 1
        found.append(float(sum(1 for group, n in counts.items() if n > 0 and group in latest
                               and latest[group] + window + quiet <= point)))
    return found


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
