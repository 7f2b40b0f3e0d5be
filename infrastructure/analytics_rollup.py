"""The analytics engine, reading the hourly rollups wherever they give the answer `rm_events` gives.

A question a rollup can answer has no filter (the rollups keep no properties), buckets by the hour
or coarser (UTC days, ISO weeks and months all start on an hour) and holds a whole hour; it counts
events (`rm_event_hours`, any or one event name), or the distinct actors or sessions of every event
(`rm_actor_hours`, `rm_session_hours`: they keep no names). Its whole hours are read from the
rollup; the partial hours at either edge of a range that does not start or end on an hour are read
from `rm_events`, in the same statement, so both parts come from one snapshot. Any other question
goes to `rm_events` as before. docs/decisions/event-rollup.md.
"""

from __future__ import annotations

from domain.time import whole_units
from infrastructure.analytics_queries import SqlAnalyticsQueries
from infrastructure.analytics_sql import Sql, measured
from projections.analytics_questions import EventQuery, Interval, Metric
from projections.hourly_rollups import ACTOR_HOURS, EVENT_HOURS, HOUR, SESSION_HOURS
from projections.model import Table
from projections.telemetry import EVENTS

# What each metric reads from which rollup: its table and the column that is counted (COUNT:
# the events the rows count; otherwise the distinct ids of its rows).
DISTINCT_ROLLUPS: dict[Metric, tuple[Table, str]] = {
    Metric.UNIQUE_ACTORS: (ACTOR_HOURS, "actor_id"), Metric.SESSIONS: (SESSION_HOURS, "session_id")}


def whole_hours(start: int, end: int) -> tuple[int, int] | None:
    """The whole UTC hours inside `[start, end)` as `[first, last)`, or None if there is none."""
    first, last = whole_units(start, end, HOUR)
    return (first, last) if first < last else None


def answers_from_rollup(query: EventQuery, interval: Interval | None, *, by_name: bool) -> bool:
    """Whether a rollup holds what this question asks (see the module's docstring); `by_name`:
    the answer is grouped by event name."""
    if (query.filters or query.received_by is not None or interval is Interval.MINUTE
            or whole_hours(query.start, query.end) is None):
        return False  # rollups count every event by its own time, whenever it arrived
    return query.metric is Metric.COUNT or (query.event is None and not by_name)


def rolled_up(query: EventQuery) -> Sql:
    """`(…) e`: rows whose timestamp is their hour's (a rollup row's) or their own (an edge's
    event), with `name` and `n` (COUNT: n adds up to the events) or the metric's id column."""
    hours = whole_hours(query.start, query.end)
    assert hours is not None
    first, last = hours
    workspace = query.workspace_id
    if query.metric is Metric.COUNT:
        named = query.event is not None
        parts = [Sql(f"SELECT h.hour AS timestamp, h.name, h.events AS n FROM {EVENT_HOURS.name} h "
                     f"WHERE h.workspace_id = %s AND h.hour >= %s AND h.hour < %s"
                     f"{' AND h.name = %s' if named else ''}",
                     [workspace, first, last, *([query.event] if named else [])])]
        columns = "ev.name, 1 AS n"
    else:
        table, column = DISTINCT_ROLLUPS[query.metric]
        parts = [Sql(f"SELECT h.hour AS timestamp, h.{column} FROM {table.name} h "
                     "WHERE h.workspace_id = %s AND h.hour >= %s AND h.hour < %s",
                     [workspace, first, last])]
        columns = f"ev.{column}"
    for edge_start, edge_end, hour in ((query.start, first, first - HOUR), (last, query.end, last)):
        if edge_start < edge_end:
            parts.append(_edge(workspace, query.event, columns, edge_start, edge_end, hour))
    return Sql(f"({' UNION ALL '.join(p.text for p in parts)}) e",
               [param for p in parts for param in p.params])


def _edge(workspace: str, event: str | None, columns: str, start: int, end: int, hour: int) -> Sql:
    """`columns` of the events of `[start, end)`, a part of `hour`, from `rm_events`. Without a
    name, the names are the ones the rollup has in that hour: the analytics index then finds each
    name's few rows of the hour, where a range on time alone would walk every name's rows."""
    if event is not None:
        names = Sql("ev.name = %s", [event])
    else:
        names = Sql(f"ev.name IN (SELECT h.name FROM {EVENT_HOURS.name} h WHERE "
                    "h.workspace_id = %s AND h.hour = %s)", [workspace, hour])
    return Sql(f"SELECT ev.timestamp, {columns} FROM {EVENTS.name} ev WHERE ev.workspace_id = %s "
               f"AND {names.text} AND ev.timestamp >= %s AND ev.timestamp < %s",
               [workspace, *names.params, start, end])


class RollupAnalyticsQueries(SqlAnalyticsQueries):
    """SqlAnalyticsQueries whose event counts and distinct actors and sessions (timeseries, top
    events, metric) read the rollups when they can answer; breakdowns, funnels and everything
    else read `rm_events`."""

    def _measured(self, query: EventQuery, group: Sql, interval: Interval | None = None, *,
                  by_name: bool = False) -> Sql:
        if not answers_from_rollup(query, interval, by_name=by_name):
            return super()._measured(query, group, interval, by_name=by_name)
        source = rolled_up(query)
        if query.metric is not Metric.COUNT:  # distinct ids, as over rm_events' rows
            return measured(source, group, query.metric)
        return Sql(f"SELECT {group.text} AS g, SUM(e.n) AS n FROM {source.text} GROUP BY 1",
                   [*group.params, *source.params])
