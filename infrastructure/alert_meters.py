"""What threshold rules measure, in SQL over the read models: counts and unique actors of an
event through the analytics engine, plain counts from the per-second and per-minute tallies. Each
meter answers the value at an instant and the instants at which it can change (for previews), in
the same terms; exception groups and monitors: infrastructure/arrival_meters.py."""

from __future__ import annotations

import heapq
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from domain.alert_conditions import invalid
from domain.time import from_micros, micros, start_of, whole_units
from infrastructure.actor_windows import known_unique_actors, spans_within, unique_actors
from infrastructure.analytics_queries import SqlAnalyticsQueries
from infrastructure.analytics_sql import Sql, events
from projections.analytics_questions import EventQuery, FilterOp, Metric, PropertyFilter
from projections.event_seconds import (
    EVENT_MINUTES,
    EVENT_SECONDS,
    LATE,
    LATE_EVENT_HOURS,
    MINUTE,
    SECOND,
)
from projections.hourly_rollups import HOUR
from projections.telemetry import EVENTS


def micros_of(span: timedelta) -> int:
    return span // timedelta(microseconds=1)


def event_query(workspace_id: str, condition: dict[str, Any], start: int, end: int) -> EventQuery:
    """A threshold condition as a question to the analytics engine, over [start, end) µs."""
    return EventQuery(
        workspace_id=workspace_id, event=condition["event"], start=start, end=end,
        metric=Metric(condition["metric"]),
        filters=tuple(PropertyFilter(f["key"], FilterOp(f["op"]), f["value"])
                      for f in condition["filters"]))


# The counts a window sums, coarsest first: each covers what whole units of it fit, and leaves
# the edges to the next (projections/event_seconds.py).
TIERS = ((MINUTE, EVENT_MINUTES.name, "minute"), (SECOND, EVENT_SECONDS.name, "second"))


Tallies = tuple[tuple[str, str, int, int], ...]  # (table, column, first, last) summed whole


def tallied(start: int, end: int, tiers: tuple[tuple[int, str, str], ...] = TIERS
            ) -> tuple[Tallies, list[tuple[int, int]]]:
    """How `counted_by_seconds` splits `[start, end)`: the ranges of whole units each tier's
    counts sum, coarsest first, and the edges left, counted from rows."""
    parts, edges = [], [(start, end)]
    for unit, table, column in tiers:
        left = []
        for first_at, end_at in edges:
            first, last = whole_units(first_at, end_at, unit)
            if first >= last:  # no whole unit in it: the next tier's
                left.append((first_at, end_at))
                continue
            parts.append((table, column, first, last))
            left += [(a, b) for a, b in ((first_at, first), (last, end_at)) if a < b]
        edges = left
    return tuple(parts), edges


def counted_by_seconds(query: EventQuery, tiers: tuple[tuple[int, str, str], ...] = TIERS) -> Sql:
    """`SELECT n`: the events of one name in `[start, end)`, in one statement: the whole minutes'
    from `rm_event_minutes`, the whole seconds' of the partial minutes at either edge from
    `rm_event_seconds`, the partial seconds' at either edge from `rm_events`, and the events of
    the whole seconds that arrived late (which the counts leave out) from `rm_events` too, a scan
    PostgreSQL skips unless `rm_late_event_hours` has some in the range's hours."""
    named = "{0}.workspace_id = %s AND {0}.name = %s"
    one = [query.workspace_id, query.event]
    tallies, edges = tallied(query.start, query.end, tiers)
    parts = [Sql(f"SELECT COALESCE(SUM(c.events), 0) AS n FROM {table} c WHERE "
                 f"{named.format('c')} AND c.{column} >= %s AND c.{column} < %s",
                 [*one, first, last]) for table, column, first, last in tallies]
    rows = f"SELECT COUNT(*) AS n FROM {EVENTS.name} ev WHERE {named.format('ev')} " \
           "AND ev.timestamp >= %s AND ev.timestamp < %s"
    first, last = whole_units(query.start, query.end, tiers[-1][0])  # what the counts cover
    if first < last:
        parts.append(Sql(
            f"{rows} AND ev.received_at - ev.timestamp > %s AND EXISTS (SELECT 1 FROM "
            f"{LATE_EVENT_HOURS.name} h WHERE {named.format('h')} AND h.hour >= %s AND h.hour < %s)",
            [*one, first, last, LATE, *one, start_of(first, HOUR), last]))
    parts += [Sql(rows, [*one, start, end]) for start, end in edges]
    return Sql(f"SELECT SUM(p.n) FROM ({' UNION ALL '.join(p.text for p in parts)}) p",
               [param for p in parts for param in p.params])


class SqlThresholdMeter:
    """Threshold conditions measured by the SQL analytics engine (the projections' vocabulary);
    a count with no property filter, by the counts of `tiers` (`counted_by_seconds`)."""

    def __init__(self, analytics: SqlAnalyticsQueries,
                 tiers: tuple[tuple[int, str, str], ...] = TIERS):
        self.analytics, self.tiers = analytics, tiers

    def value(self, workspace_id: str, condition: dict[str, Any], at: datetime) -> float:
        end = micros(at) + 1  # the window is (at - window, at]
        start = end - condition["window_seconds"] * 1_000_000
        query = event_query(workspace_id, condition, start, end)
        if query.metric is Metric.COUNT and not query.filters and query.event is not None:
            found = self.analytics.rows(counted_by_seconds(query, self.tiers))
            return float(found[0][0] or 0) if found else 0.0
        return self.analytics.metric(query)

    def values(self, workspace_id: str, condition: dict[str, Any],
               instants: list[datetime]) -> list[float]:
        """`value` at each instant (ascending), a statement per `VALUES_AT_ONCE` instants. A
        plain count sums its counts at each instant as `value` does, all in one statement; a
        filtered count takes the first instant's count of rows and, between each instant and
        the next, the rows that entered and left the window, each interval its own range of
        `rm_events`' index (cost grows with the time the instants span, not their number).
        Both read one read model per statement: deltas from `rm_events` on top of a count from
        the per-second counts went wrong (even negative) whenever a back-dated event was in one
        of the two projections and not yet in the other. Unique actors: `unique_actors`."""
        query = event_query(workspace_id, condition, 0, 0)
        window, values = condition["window_seconds"] * 1_000_000, list[float]()
        if query.metric is Metric.UNIQUE_ACTORS:
            for points in spans_within(window, [micros(at) for at in instants]):
                values += unique_actors(self.analytics, query, window, points)
            return values
        if query.metric is not Metric.COUNT:
            return [self.value(workspace_id, condition, at) for at in instants]
        for first in range(0, len(instants), VALUES_AT_ONCE):
            points = [micros(at) for at in instants[first:first + VALUES_AT_ONCE]]
            values += (self._row_counts(query, window, points) if query.filters
                       else self._plain_counts(query, window, points))
        return values

    def _plain_counts(self, query: EventQuery, window: int, points: list[int]) -> list[float]:
        """`counted_by_seconds` at each point (µs), in one statement. Points whose windows the
        counts split alike (the same whole minutes and seconds: a run's arrivals within one
        second) differ only by rows of their partial seconds, all in `rm_events`: the first
        of them is summed, the others take the rows that entered and left the window since."""
        runs: list[list[int]] = []  # consecutive points split alike
        plan = None
        for at in points:
            tallies, _ = tallied(at + 1 - window, at + 1, self.tiers)
            alike = (tallies, whole_units(at + 1 - window, at + 1, self.tiers[-1][0]))
            if runs and alike == plan:
                runs[-1].append(at)
            else:
                runs.append([at])
                plan = alike
        return self._counted(query, window, runs, [counted_by_seconds(
            replace(query, start=run[0] + 1 - window, end=run[0] + 1), self.tiers) for run in runs])

    def _row_counts(self, query: EventQuery, window: int, points: list[int]) -> list[float]:
        """The count of rows (filtered or not) at each point (µs), in one statement: the first
        point's, then the rows that entered and left the window."""
        end = points[0] + 1  # the window is (at - window, at]
        within = self.analytics.source(replace(query, start=end - window, end=end))
        return self._counted(query, window, [points],
                             [Sql(f"SELECT COUNT(*) FROM {within.text}", within.params)])

    def _counted(self, query: EventQuery, window: int, runs: list[list[int]],
                 firsts: list[Sql]) -> list[float]:
        """The count at each point of `runs` (µs, ascending), in one statement (one snapshot):
        each run's first by its statement in `firsts`, each other point by the one before it
        and the rows (of the query's event and filters) that entered the window since, counted
        in interval 2k, and left it, in interval 2k + 1, each (lo, hi]. The rows carry no other
        bound on time: given one, SQLite reads the index by it and filters by the interval,
        every interval reading all their span."""
        spans = [span for run in runs for before, after in zip(run, run[1:], strict=False)
                 for span in ((before, after), (before - window, after - window))]
        statement = " UNION ALL ".join(f"SELECT {-1 - n} AS i, ({first.text}) AS n"
                                       for n, first in enumerate(firsts))
        params = [param for first in firsts for param in first.params]
        if spans:
            intervals = ", ".join(f"({n}, {int(lo)}, {int(hi)})" for n, (lo, hi) in enumerate(spans))
            rows = events(query.workspace_id, [Sql("ev.name = %s", [query.event])],
                          query.filters, {}, self.analytics.dialect)
            statement = (f"WITH iv(i, lo, hi) AS (VALUES {intervals}) {statement} UNION ALL "
                         f"SELECT iv.i, (SELECT COUNT(*) FROM {rows.text} WHERE "
                         "e.timestamp > iv.lo AND e.timestamp <= iv.hi) FROM iv")
            params += rows.params
        found = dict(self.analytics.rows(Sql(statement, params)))
        counts, span = [], 0
        for n, run in enumerate(runs):
            counts.append(float(found.get(-1 - n) or 0))
            for _ in run[1:]:  # entered, then left, between each point and the next
                counts.append(counts[-1] + float(found.get(span) or 0)
                              - float(found.get(span + 1) or 0))
                span += 2
        return counts

    def known_values(self, workspace_id: str, condition: dict[str, Any],
                     instants: list[datetime], settle: timedelta) -> list[float]:
        """The values at these instants (in order) as they were known `settle` after each: only
        events received by then count, as live evaluation saw them. A count is measured at
        every instant together (every event by its own time: from the rows, or from the counts
        past `ROWS_TO_COUNT` events) less the events that arrived later than that, found in one
        read of the range; unique actors: `known_unique_actors`."""
        if not instants:
            return []
        window, wait = condition["window_seconds"] * 1_000_000, micros_of(settle)
        query = event_query(workspace_id, condition, 0, 0)
        if query.metric is Metric.UNIQUE_ACTORS:
            return [value for points in spans_within(window, [micros(at) for at in instants])
                    for value in known_unique_actors(self.analytics, query, window, wait, points)]
        if query.metric is not Metric.COUNT:
            return [self.analytics.metric(replace(
                query, start=micros(at) + 1 - window, end=micros(at) + 1,
                received_by=micros(at) + wait)) for at in instants]
        rows = events(workspace_id, [
            Sql("ev.name = %s", [query.event]), Sql("ev.timestamp > %s", [
                micros(instants[0]) - window]), Sql("ev.timestamp <= %s", [micros(instants[-1])]),
            Sql("ev.received_at > ev.timestamp + %s", [wait])], query.filters, {},
            self.analytics.dialect, received=True)
        late = [(int(t), int(r)) for t, r in self.analytics.rows(Sql(
            f"SELECT e.timestamp, e.received_at FROM {rows.text} ORDER BY e.timestamp LIMIT %s",
            [*rows.params, MAX_LATE + 1]))]
        if len(late) > MAX_LATE:
            raise invalid("to", f"a range with at most {MAX_LATE} events that arrived late")
        points = [micros(at) for at in instants]
        unknown = unknown_counts(late, points, window, wait)
        # Few rows: counted from them in one statement (the first window, then what entered
        # and left); many: summed from the counts at each instant (cost by instants, not rows).
        counted = (self._row_counts(query, window, points)
                   if query.filters or self._about(query, points[0] - window, points[-1])
                   <= ROWS_TO_COUNT else self.values(workspace_id, condition, instants))
        return [value - missing for value, missing in zip(counted, unknown, strict=True)]

    def _about(self, query: EventQuery, start: int, end: int) -> int:
        """About how many events of the query's name happened in [start, end) (µs): whole
        minutes of it, from the per-minute counts."""
        found = self.analytics.rows(Sql(
            f"SELECT COALESCE(SUM(c.events), 0) FROM {EVENT_MINUTES.name} c WHERE "
            "c.workspace_id = %s AND c.name = %s AND c.minute >= %s AND c.minute < %s",
            [query.workspace_id, query.event, start_of(start, MINUTE), end]))
        return int(found[0][0]) if found else 0

    def cause(self, workspace_id: str, condition: dict[str, Any],
              at: datetime) -> dict[str, Any] | None:
        return None  # the value is the count of the rule's own event: it says it all

    def instants(self, workspace_id: str, condition: dict[str, Any], start: datetime,
                 end: datetime) -> list[datetime]:
        """When batches carrying the rule's event arrived in [start, end], as live evaluation
        reacts to them (at arrival, not at the events' own time): only batches with such an
        event inside the window as it ends at their arrival, as live evaluation judges them
        (`alert_sources.reaches`: an older or future-stamped event changes no value there)."""
        first, last = micros(start), micros(end)
        window = condition["window_seconds"] * 1_000_000
        return [from_micros(int(t)) for (t,) in self.analytics.rows(Sql(
            f"SELECT DISTINCT ev.received_at FROM {EVENTS.name} ev WHERE ev.workspace_id = %s "
            "AND ev.name = %s AND ev.timestamp > %s AND ev.timestamp <= %s "
            "AND ev.received_at >= %s AND ev.received_at <= %s "
            "AND ev.timestamp > ev.received_at - %s AND ev.timestamp <= ev.received_at ORDER BY 1",
            [workspace_id, condition["event"], first - window, last, first, last, window]))]


# Instants one statement measures (`SqlThresholdMeter.values`); a plain count's is a UNION
# ALL of one term per instant, and SQLite takes at most 500 terms.
VALUES_AT_ONCE = 100
MAX_LATE = 200_000  # events that arrived after their moment had been judged, in one preview
ROWS_TO_COUNT = 2_000_000  # events a preview's plain count reads rather than sum the counts


def unknown_counts(late: list[tuple[int, int]], instants: list[int], window: int,
                   wait: int) -> list[int]:
    """For each instant t (ascending), how many of `late` (timestamp, received_at), sorted by
    timestamp, lie in the window (t - window, t] but were received after t + wait: counted by
    their own time, yet not there when t was judged. One sweep: a point enters when the window
    reaches its timestamp, leaves when the window passes it or once t + wait reaches its arrival
    (t only grows, so it never counts again)."""
    counts: list[int] = []
    arrivals: list[tuple[int, int]] = []  # a heap (received_at, index) of the points entered
    entered = passed = alive = 0
    gone: set[int] = set()
    for t in instants:
        while entered < len(late) and late[entered][0] <= t:
            heapq.heappush(arrivals, (late[entered][1], entered))
            entered += 1
            alive += 1
        while passed < entered and late[passed][0] <= t - window:
            if passed not in gone:
                gone.add(passed)
                alive -= 1
            passed += 1
        while arrivals and arrivals[0][0] <= t + wait:
            _, index = heapq.heappop(arrivals)
            if index not in gone:
                gone.add(index)
                alive -= 1
        counts.append(alive)
    return counts
