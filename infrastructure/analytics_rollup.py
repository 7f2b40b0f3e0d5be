"""The analytics engine, reading the hourly rollup wherever it gives the answer `rm_events` gives.

A question the rollup can answer counts events (no distinct actors or sessions), has no filter
(the rollup keeps no properties) and buckets by the hour or coarser (UTC days, ISO weeks and
months all start on an hour). Its whole hours are read from `rm_event_hours`; the partial hours
at either edge of a range that does not start or end on an hour are counted from `rm_events`,
in the same statement, so both parts come from one snapshot. Any other question goes to
`rm_events` as before. docs/decisions/event-rollup.md.
"""

from __future__ import annotations

from typing import Any

from infrastructure.analytics_queries import SqlAnalyticsQueries
from infrastructure.analytics_sql import Sql
from projections.analytics_questions import EventQuery, Interval, Metric
from projections.event_hours import EVENT_HOURS, HOUR, hour_of
from projections.telemetry import EVENTS


def whole_hours(start: int, end: int) -> tuple[int, int] | None:
    """The whole UTC hours inside `[start, end)` as `[first, last)`, or None if there is none."""
    first, last = -hour_of(-start), hour_of(end)  # start rounded up, end down
    return (first, last) if first < last else None


def answers_from_rollup(query: EventQuery, interval: Interval | None) -> bool:
    """Whether the rollup holds what this question counts (see the module's docstring)."""
    return (query.metric is Metric.COUNT and not query.filters and interval is not Interval.MINUTE
            and whole_hours(query.start, query.end) is not None)


def counted_events(query: EventQuery) -> Sql:
    """`(…) e`: rows of (timestamp, name, n) whose n add up to the question's events: one per
    rollup row of a whole hour (its hour as timestamp), one per event of an edge's partial hour."""
    hours = whole_hours(query.start, query.end)
    assert hours is not None
    first, last = hours
    workspace, named = query.workspace_id, query.event is not None
    parts = [Sql(f"SELECT h.hour AS timestamp, h.name, h.events AS n FROM {EVENT_HOURS.name} h "
                 f"WHERE h.workspace_id = %s AND h.hour >= %s AND h.hour < %s"
                 f"{' AND h.name = %s' if named else ''}",
                 [workspace, first, last, *([query.event] if named else [])])]
    for edge_start, edge_end, hour in ((query.start, first, first - HOUR), (last, query.end, last)):
        if edge_start < edge_end:
            parts.append(_edge(workspace, query.event, edge_start, edge_end, hour))
    return Sql(f"({' UNION ALL '.join(p.text for p in parts)}) e",
               [param for p in parts for param in p.params])


def _edge(workspace: str, event: str | None, start: int, end: int, hour: int) -> Sql:
    """The events of `[start, end)`, a part of `hour`, from `rm_events`. Without a name, the names
    are the ones the rollup has in that hour: the analytics index then finds each name's few
    rows of the hour, where a range on time alone would walk every name's rows."""
    if event is not None:
        names = Sql("ev.name = %s", [event])
    else:
        names = Sql(f"ev.name IN (SELECT h.name FROM {EVENT_HOURS.name} h WHERE "
                    "h.workspace_id = %s AND h.hour = %s)", [workspace, hour])
    return Sql(f"SELECT ev.timestamp, ev.name, 1 AS n FROM {EVENTS.name} ev WHERE "
               f"ev.workspace_id = %s AND {names.text} AND ev.timestamp >= %s AND ev.timestamp < %s",
               [workspace, *names.params, start, end])


class RollupAnalyticsQueries(SqlAnalyticsQueries):
    """SqlAnalyticsQueries whose event counts (timeseries, top events, metric) read the rollup
    when it can answer; breakdowns, funnels and everything else read `rm_events`."""

    def _measured(self, query: EventQuery, group: Sql, interval: Interval | None = None) -> Sql:
        if not answers_from_rollup(query, interval):
            return super()._measured(query, group, interval)
        source = counted_events(query)
        params: list[Any] = [*group.params, *source.params]
        return Sql(f"SELECT {group.text} AS g, SUM(e.n) AS n FROM {source.text} GROUP BY 1", params)
