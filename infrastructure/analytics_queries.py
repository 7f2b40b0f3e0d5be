"""The analytics engine over `rm_events` on SQLite and PostgreSQL: aggregates in SQL, funnels in
Python over the steps' rows (projections/funnel.py: grouped per step name and actor, one short
search per step-1 event)."""

from __future__ import annotations

from typing import Any

from psycopg.rows import tuple_row

from infrastructure.analytics_sql import Sql, bucket_key, events, measured
from infrastructure.database import Database, PostgresDatabase
from projections.analytics_questions import (
    STEP_MICROS,
    AnalyticsQueries,
    EventQuery,
    Funnel,
    FunnelOrder,
    FunnelQuery,
    Interval,
    bucket_starts,
    month_number,
)
from projections.funnel import OTHER, count_funnel, step_names

# Per transaction on PostgreSQL: JIT compiles for longer than these queries run, and hash
# aggregates of a few hundred thousand rows should not spill to disk.
POSTGRES_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL work_mem = '64MB'")


class SqlAnalyticsQueries(AnalyticsQueries):
    def __init__(self, db: Database):
        self.db = db
        self.dialect = db.dialect

    def rows(self, sql: Sql) -> list[tuple[Any, ...]]:
        """Plain tuples (binary transfer on PostgreSQL): funnels read a few hundred thousand."""
        if isinstance(self.db, PostgresDatabase):
            with self.db.connection() as conn, conn.transaction(), \
                    conn.cursor(row_factory=tuple_row, binary=True) as cur:
                for setting in POSTGRES_SETTINGS:
                    cur.execute(setting)
                cur.execute(sql.text, sql.params)
                return cur.fetchall()
        return [tuple(row.values()) for row in self.db.query(sql.text, sql.params)]

    def source(self, query: EventQuery, extra: dict[str, str] | None = None) -> Sql:
        """`(SELECT …) e`: the question's rows (its event, range and filters)."""
        where = [Sql("ev.timestamp >= %s", [query.start]), Sql("ev.timestamp < %s", [query.end])]
        if query.event is not None:
            where.append(Sql("ev.name = %s", [query.event]))
        if query.received_by is not None:
            where.append(Sql("ev.received_at <= %s", [query.received_by]))
        return events(query.workspace_id, where, query.filters, extra or {}, self.dialect)

    def timeseries(self, query: EventQuery, interval: Interval) -> list[tuple[int, float]]:
        starts = bucket_starts(query.start, query.end, interval)
        step = STEP_MICROS.get(interval, 0)
        group = bucket_key(interval, starts[0], step, self.dialect)
        offset = month_number(query.start) if interval is Interval.MONTH else 0
        values = [0.0] * len(starts)
        for key, value in self.rows(self._measured(query, group, interval)):
            values[int(key) - offset] = float(value)
        return list(zip(starts, values, strict=True))

    def _measured(self, query: EventQuery, group: Sql, interval: Interval | None = None, *,
                  by_name: bool = False) -> Sql:
        """`SELECT g, n`: the question's metric per `group`, an expression over `e.timestamp` (a
        bucket of `interval`), `e.name` (`by_name`) or neither."""
        return measured(self.source(query), group, query.metric)

    def breakdown(self, query: EventQuery, prop: str, limit: int) -> list[tuple[str | None, float]]:
        return self._ranked(measured(self.source(query, {"b": prop}), Sql("e.b"), query.metric), limit)

    def top_events(self, query: EventQuery, limit: int) -> list[tuple[str, float]]:
        ranked = self._ranked(self._measured(query, Sql("e.name"), by_name=True), limit)
        return [(str(name), n) for name, n in ranked]

    def _ranked(self, grouped: Sql, limit: int) -> list[tuple[Any, float]]:
        """Groups largest first, ties by their value's text (NULL last), at most `limit`."""
        text = "r.g" if self.dialect == "sqlite" else 'r.g COLLATE "C"'
        ranked = Sql(f"SELECT r.g, r.n FROM ({grouped.text}) r ORDER BY r.n DESC, r.g IS NULL, {text} "
                     "LIMIT %s", [*grouped.params, limit])
        return [(value, float(n)) for value, n in self.rows(ranked)]

    def metric(self, query: EventQuery) -> float:
        found = self.rows(self._measured(query, Sql("0")))
        return float(found[0][1]) if found else 0.0

    def funnel(self, query: FunnelQuery) -> Funnel:
        names = step_names(query.steps)
        cases = " ".join(f"WHEN %s THEN {n}" for n in range(len(names)))
        extra = {"b": query.breakdown} if query.breakdown else {}
        value = "e.b" if query.breakdown else "NULL"
        where = [Sql("ev.timestamp >= %s", [query.start]),
                 Sql("ev.timestamp < %s", [query.end + query.window])]
        if query.order is FunnelOrder.STRICT:
            where.append(self._entered(query))  # every event of the actors who entered
        else:
            where.append(Sql(f"ev.name IN ({', '.join(['%s'] * len(names))})", list(names)))
        source = events(query.workspace_id, where, query.filters, extra, self.dialect)
        sql = Sql(f"SELECT e.actor_id, CASE e.name {cases} ELSE {OTHER} END, e.timestamp, {value} "
                  f"FROM {source.text}", [*names, *source.params])
        return count_funnel(self.rows(sql), query)

    def _entered(self, query: FunnelQuery) -> Sql:
        """Actors with a step-1 event in the range that passes the filters."""
        where = [Sql("ev.name = %s", [query.steps[0]]), Sql("ev.timestamp >= %s", [query.start]),
                 Sql("ev.timestamp < %s", [query.end])]
        entered = events(query.workspace_id, where, query.filters, {}, self.dialect)
        return Sql(f"ev.actor_id IN (SELECT e.actor_id FROM {entered.text})", entered.params)
