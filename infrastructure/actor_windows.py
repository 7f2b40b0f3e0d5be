"""Distinct actors over windows that slide: what a unique-actors alert rule measures at a run's
instants (infrastructure/alert_meters.py). Distinct counts do not add up as counts do (an actor
may be in two windows), so instants closer together than the window are measured together over
what their windows share, and slid over what they do not."""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import replace

from infrastructure.analytics_queries import SqlAnalyticsQueries
from infrastructure.analytics_sql import Sql, events
from projections.analytics_questions import EventQuery

FOREVER = 2**62  # µs: a span that does not end within a run


def spans_within(window: int, points: list[int]) -> list[list[int]]:
    """Ascending points in runs each spanning less than `window` (µs): windows that overlap."""
    runs: list[list[int]] = []
    for at in points:
        if runs and at - runs[-1][0] < window:
            runs[-1].append(at)
        else:
            runs.append([at])
    return runs


def unique_actors(analytics: SqlAnalyticsQueries, query: EventQuery, window: int,
                  points: list[int]) -> list[float]:
    """Distinct actors at each point (µs, ascending, closer together than the window), in
    one statement: the windows share a middle (from the last one's start to the first
    one's end) and differ by their edges (from the first one's start to the last one's,
    from the first point to the last). The statement counts the middle's actors seen at
    neither edge, names those seen at one, and gives each edge actor its latest moment
    in the first edge (it leaves the windows a window after that) and its first in the
    second (it enters then and stays). Each point's count is the middle's plus the edge
    actors inside its window, slid in Python (`slid`): rows as many as actors, not events (a
    run of a day's grid instants against a day's window has edges of a day each)."""
    if len(points) == 1:
        at = points[0]
        return [analytics.metric(replace(query, start=at + 1 - window, end=at + 1))]
    first, last = points[0] + 1, points[-1] + 1  # the window is [at + 1 - window, at + 1)
    head = analytics.source(replace(query, start=first - window, end=last - window))
    tail = analytics.source(replace(query, start=first, end=last))
    core = analytics.source(replace(query, start=last - window, end=first))
    edges = [Sql(f"SELECT 0 AS kind, {since} AS entered, {leaves} AS leaves, e.actor_id AS "
                 f"actor, 0 AS n FROM {edge.text} WHERE e.actor_id IS NOT NULL GROUP BY "
                 "e.actor_id", [*params, *edge.params])
             for since, leaves, params, edge in (
                 (-FOREVER, "MAX(e.timestamp) + %s", [window], head),
                 ("MIN(e.timestamp)", FOREVER, [], tail))]
    named = Sql(" UNION ".join(f"SELECT e.actor_id FROM {edge.text} WHERE e.actor_id IS NOT "
                               "NULL" for edge in (head, tail)), head.params + tail.params)
    middle = Sql(
        "SELECT 1, 0, 0, c.a, COUNT(*) FROM (SELECT CASE WHEN d.actor_id IN "
        f"({named.text}) THEN d.actor_id END AS a FROM (SELECT DISTINCT e.actor_id FROM "
        f"{core.text} WHERE e.actor_id IS NOT NULL) d) c GROUP BY c.a",
        named.params + core.params)
    parts = [*edges, middle]
    return slid(analytics.rows(Sql(" UNION ALL ".join(p.text for p in parts),
                                   [param for p in parts for param in p.params])), points)


def slid(answer: list[tuple[int, int, int, str | None, int]], points: list[int]) -> list[float]:
    """Each point's distinct actors from a statement's rows (kind, entered, leaves, actor, n):
    kind 1, the middle's actors, counted (actor null) or named (seen at an edge too: there at
    every point); kind 0, an actor's span [entered, leaves), swept in time order."""
    others = sum(int(n) for kind, _, _, actor, n in answer if kind == 1 and actor is None)
    named_ones = {str(actor) for kind, _, _, actor, _ in answer
                  if kind == 1 and actor is not None}
    spans = sorted((int(since), int(until), str(actor)) for kind, since, until, actor, _ in answer
                   if kind == 0)
    inside: Counter[str] = Counter()
    leaving: list[tuple[int, str]] = []  # (until, actor) of the spans entered
    counts, entered, more = [], 0, 0  # more: actors inside and not named
    for at in points:
        while entered < len(spans) and spans[entered][0] <= at:
            _, until, actor = spans[entered]
            entered += 1
            if until > at:
                heapq.heappush(leaving, (until, actor))
                inside[actor] += 1
                more += inside[actor] == 1 and actor not in named_ones
        while leaving and leaving[0][0] <= at:
            _, actor = heapq.heappop(leaving)
            inside[actor] -= 1
            more -= inside[actor] == 0 and actor not in named_ones
        counts.append(float(others + len(named_ones) + more))
    return counts


def known_unique_actors(analytics: SqlAnalyticsQueries, query: EventQuery, window: int,
                        wait: int, points: list[int]) -> list[float]:
    """Distinct actors at each point (µs, ascending, closer together than the window) as they
    were known `wait` after it (a preview's replay): a row counts at t once it is inside the
    window and was received by t + wait, so it is there from max(its moment, received - wait)
    until a window after its moment. As `unique_actors`, in one statement: the middle's actors
    there at the first point are counted (and named if also at an edge); the others of the
    middle and the newer edge come as their first moment there (they stay); the older edge's
    as their latest moment among the rows received in time (each is there from the start
    until a window after it), and among the rows of each batch received later (there from
    the batch's arrival less the wait)."""
    if len(points) == 1:
        at = points[0]
        return [analytics.metric(replace(query, start=at + 1 - window, end=at + 1,
                                          received_by=at + wait))]
    first, last = points[0] + 1, points[-1] + 1  # the window is [at + 1 - window, at + 1)

    def rows(start: int, end: int) -> Sql:
        return events(query.workspace_id, [
            Sql("ev.name = %s", [query.event]), Sql("ev.timestamp >= %s", [start]),
            Sql("ev.timestamp < %s", [end]), Sql("ev.actor_id IS NOT NULL", [])],
            query.filters, {}, analytics.dialect, received=True)

    head, middle, tail = rows(first - window, last - window), rows(last - window, first), \
        rows(first, last)
    known = Sql("CASE WHEN e.received_at - %s > e.timestamp THEN e.received_at - %s "
                "ELSE e.timestamp END", [wait, wait])  # from when a row counts
    late = Sql("e.received_at - %s > e.timestamp", [wait])
    named = Sql(" UNION ".join(f"SELECT e.actor_id FROM {edge.text}" for edge in (head, tail)),
                head.params + tail.params)
    found = Sql(f"WITH f AS (SELECT e.actor_id AS actor, MIN({known.text}) AS since FROM "
                f"{middle.text} GROUP BY e.actor_id) ", [*known.params, *middle.params])
    parts = [
        Sql("SELECT 1 AS kind, 0 AS entered, 0 AS leaves, c.a AS actor, COUNT(*) AS n FROM "
            f"(SELECT CASE WHEN f.actor IN ({named.text}) THEN f.actor END AS a FROM f "
            "WHERE f.since < %s) c GROUP BY c.a", [*named.params, first]),
        Sql(f"SELECT 0, f.since, {FOREVER}, f.actor, 0 FROM f WHERE f.since >= %s", [first]),
        Sql(f"SELECT 0, MIN({known.text}), {FOREVER}, e.actor_id, 0 FROM {tail.text} "
            "GROUP BY e.actor_id", [*known.params, *tail.params]),
        Sql(f"SELECT 0, {-FOREVER}, MAX(e.timestamp) + %s, e.actor_id, 0 FROM {head.text} "
            f"WHERE NOT ({late.text}) GROUP BY e.actor_id", [window, *head.params, *late.params]),
        # late rows of one batch are known at once, and the latest of them leaves last
        Sql(f"SELECT 0, e.received_at - %s, MAX(e.timestamp) + %s, e.actor_id, 0 FROM "
            f"{head.text} WHERE {late.text} GROUP BY e.actor_id, e.received_at",
            [wait, window, *head.params, *late.params])]
    return slid(analytics.rows(Sql(found.text + " UNION ALL ".join(p.text for p in parts), [
        *found.params, *(param for p in parts for param in p.params)])), points)
