"""Funnels counted from events' own timestamps: exact, and blind to the order events arrived in.

For each actor, every step-1 event inside the range is a candidate start; from each, a path takes
one distinct event per step. A path's step k+1 is at or after its step k (ties count as in order)
and no later than the start plus the window. STRICT also forbids any other event of the actor
(in the filtered set) strictly between two consecutive steps; ANY lets steps 2..n come in any
order after step 1. The actor's counted path is its deepest, then the one with the earliest step
times (compared in step order), then the one whose step-1 breakdown value sorts first (None last).
"""

from __future__ import annotations

import statistics
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from operator import itemgetter
from typing import Any

from projections.analytics_questions import Funnel, FunnelBreakdown, FunnelOrder, FunnelQuery, FunnelStep

OTHER = -1  # the name index of an event that is no step (read for STRICT only)
Row = tuple[str, int, int, Any]  # (actor_id, name index or OTHER, timestamp µs, breakdown value)
Path = list[int]  # the timestamps of the steps reached


def step_names(steps: tuple[str, ...]) -> list[str]:
    """The distinct names of the steps, in first-use order: what a row's name index points into."""
    return list(dict.fromkeys(steps))


def _value_key(value: Any) -> tuple[bool, str]:
    return (value is None, "" if value is None else str(value))


def _next_event(times: list[int], at_least: int, at_most: int, index: int,
                used: set[tuple[int, int]] | None) -> int:
    """The position of the earliest event in `times` within [at_least, at_most] that no earlier
    step took (`used` only matters when a name repeats); -1 when there is none."""
    pos = bisect_left(times, at_least)
    if used:
        while pos < len(times) and (index, pos) in used:
            pos += 1
    return pos if pos < len(times) and times[pos] <= at_most else -1


def _greedy(times: list[list[int]], plan: list[int], first: int, window: int, any_order: bool,
            repeats: bool) -> Path:
    """SEQUENTIAL and ANY: the earliest usable event at each step (optimal for both)."""
    start = times[plan[0]][first]
    used = {(plan[0], first)} if repeats else None
    path = [start]
    for index in plan[1:]:
        pos = _next_event(times[index], start if any_order else path[-1], start + window, index, used)
        if pos < 0:
            break
        if used is not None:
            used.add((index, pos))
        path.append(times[index][pos])
    return path


def _strict(times: list[list[int]], stamps: list[int], plan: list[int], k: int, previous: int,
            deadline: int, used: set[tuple[int, int]]) -> Path:
    """STRICT: the best continuation from step k. The next step is at `previous` or at the
    actor's very next moment: anything later has that moment's event in between."""
    if k == len(plan):
        return []
    best: Path = []
    after = bisect_right(stamps, previous)
    for moment in (previous, stamps[after] if after < len(stamps) else None):
        if moment is None or moment > deadline:
            continue
        pos = _next_event(times[plan[k]], moment, moment, plan[k], used)
        if pos < 0:
            continue
        found = [moment, *_strict(times, stamps, plan, k + 1, moment, deadline,
                                  used | {(plan[k], pos)})]
        if len(found) > len(best):
            best = found
    return best


class _Rules:
    """What one funnel query asks of every actor, worked out once."""

    def __init__(self, query: FunnelQuery, names: list[str]):
        self.query = query
        self.names = len(names)
        self.plan = [names.index(step) for step in query.steps]
        self.strict = query.order is FunnelOrder.STRICT
        self.any_order = query.order is FunnelOrder.ANY
        self.repeats = len(set(self.plan)) < len(self.plan)
        self.by_value = query.breakdown is not None


def best_path(events: list[Row], rules: _Rules) -> tuple[Path, Any] | None:
    """One actor's counted path (its step timestamps) and step-1 breakdown value, if it entered."""
    plan, query = rules.plan, rules.query
    events.sort(key=itemgetter(2, 1))
    times: list[list[int]] = [[] for _ in range(rules.names)]
    values: list[Any] = []
    for _, index, stamp, value in events:
        if index >= 0:
            times[index].append(stamp)
            if index == plan[0]:
                values.append(value)
    starts = times[plan[0]]
    lo, hi = bisect_left(starts, query.start), bisect_left(starts, query.end)
    if lo == hi:
        return None
    stamps = sorted({row[2] for row in events}) if rules.strict else []
    best: tuple[int, Path, tuple[bool, str]] | None = None
    best_value = None
    for first in range(lo, hi):
        if best is not None and best[0] == -len(plan) and starts[first] > best[1][0]:
            break  # a complete path with an earlier start cannot be beaten
        if rules.strict:
            begin = starts[first]
            path = [begin, *_strict(times, stamps, plan, 1, begin, begin + query.window,
                                    {(plan[0], first)})]
        else:
            path = _greedy(times, plan, first, query.window, rules.any_order, rules.repeats)
        if hi - lo == 1:
            return path, values[first]
        key = (-len(path), path, _value_key(values[first]) if rules.by_value else (False, ""))
        if best is None or key < best:
            best, best_value = key, values[first]
    assert best is not None
    return best[1], best_value


def summarise(steps: tuple[str, ...], paths: list[Path]) -> list[FunnelStep]:
    """Counts, conversion from step 1, and the median seconds from the previous step."""
    gaps: list[list[float]] = [[] for _ in steps]
    for path in paths:
        for k in range(1, len(path)):
            gaps[k].append((path[k] - path[k - 1]) / 1_000_000)
    entered = len(paths)
    result = []
    for k, name in enumerate(steps):
        count = len(gaps[k]) if k else entered
        result.append(FunnelStep(
            name=name, count=count, conversion_rate=count / entered if entered else 0.0,
            median_seconds_from_previous=float(statistics.median(gaps[k])) if gaps[k] else None))
    return result


def _step_times(rows: Iterable[Row], rules: _Rules) -> list[defaultdict[str, list[Any]]]:
    """Per step name, each actor's timestamps in time order. With a breakdown, step 1's entries
    are (timestamp, value's sort key, value), so that among equal starts the first sorts first.
    One more mapping than names, last: where rows of no step (OTHER, -1) go and stay unread."""
    by_name: list[defaultdict[str, list[Any]]] = [defaultdict(list) for _ in range(rules.names + 1)]
    first = rules.plan[0]
    if rules.by_value:
        for actor, index, stamp, value in rows:
            by_name[index][actor].append((stamp, _value_key(value), value) if index == first
                                         else stamp)
    else:
        for actor, index, stamp, _ in rows:
            by_name[index][actor].append(stamp)
    for index, times in enumerate(by_name[:-1]):
        ordered = _ENTRY_ORDER if rules.by_value and index == first else None
        for each in times.values():
            each.sort(key=ordered)
    return by_name


_ENTRY_ORDER = itemgetter(0, 1)  # a value itself is never compared: 1 and "1" share a sort key


def _greedy_paths(rows: Iterable[Row], rules: _Rules) -> list[tuple[Path, Any]]:
    """SEQUENTIAL and ANY, no step name repeated: each entered actor's counted path and step-1
    value, from the rows grouped per step name rather than per actor (this is the dashboard's
    usual funnel, and the cheaper walk). The earliest usable event at each step is optimal, so
    a path depends on its start alone: the counted one is the first, in time order, of the
    deepest (the first with a complete path ends the search). The walk from a start is
    `_greedy`'s without repeats, written out, because calling `_greedy` per start (with the
    actor's lists built first) made the dashboard's usual funnel measurably slower."""
    query, plan = rules.query, rules.plan
    by_name = _step_times(rows, rules)
    later = [by_name[index].get for index in plan[1:]]  # .get: never adds a missing actor
    depth, window, any_order, by_value = len(plan), query.window, rules.any_order, rules.by_value
    begin, end = query.start, query.end
    counted: list[tuple[Path, Any]] = []
    for actor, entries in by_name[plan[0]].items():
        starts = [entry[0] for entry in entries] if by_value else entries
        lo = 0 if starts[0] >= begin else bisect_left(starts, begin)
        hi = len(starts) if starts[-1] < end else bisect_left(starts, end)
        best: Path = []
        chosen = lo
        for first in range(lo, hi):
            start = previous = starts[first]
            deadline = start + window
            path = [start]
            for times_of in later:
                found = times_of(actor)
                if found is None:
                    break
                pos = bisect_left(found, start if any_order else previous)
                if pos == len(found) or found[pos] > deadline:
                    break
                previous = found[pos]
                path.append(previous)
            if len(path) > len(best):
                best, chosen = path, first
                if len(path) == depth:
                    break
        if best:
            counted.append((best, entries[chosen][2] if by_value else None))
    return counted


def _searched_paths(rows: Iterable[Row], rules: _Rules) -> list[tuple[Path, Any]]:
    """Any funnel (STRICT, or a step name repeated): each entered actor's path, by `best_path`
    over its rows."""
    by_actor: dict[str, list[Row]] = {}
    for row in rows:
        events = by_actor.get(row[0])
        if events is None:
            by_actor[row[0]] = [row]
        else:
            events.append(row)
    counted: list[tuple[Path, Any]] = []
    for events in by_actor.values():
        found = best_path(events, rules)
        if found is not None:
            counted.append(found)
    return counted


def count_funnel(rows: Iterable[Row], query: FunnelQuery) -> Funnel:
    """The funnel over rows of the filtered events of the steps (and, for STRICT, the others)."""
    rules = _Rules(query, step_names(query.steps))
    greedy = not rules.strict and not rules.repeats
    counted = _greedy_paths(rows, rules) if greedy else _searched_paths(rows, rules)
    funnel = Funnel(steps=summarise(query.steps, [path for path, _ in counted]))
    if query.breakdown is None:
        return funnel
    groups: dict[Any, list[Path]] = {}
    for path, value in counted:
        groups.setdefault(value, []).append(path)
    ranked = sorted(groups.items(), key=lambda item: (-len(item[1]), _value_key(item[0])))
    breakdowns = [FunnelBreakdown(value=None if value is None else str(value),
                                  steps=summarise(query.steps, paths))
                  for value, paths in ranked[:query.breakdown_limit]]
    return Funnel(steps=funnel.steps, breakdowns=breakdowns)
