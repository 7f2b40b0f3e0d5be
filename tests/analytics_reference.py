"""The analytics answers computed the obvious way, in plain Python, for tests to compare against.

Written apart from the engine and on purpose naive: datetimes instead of microsecond arithmetic,
and funnels by trying every ordered choice of an actor's events (itertools.permutations).
"""

from __future__ import annotations

import itertools
import re
import statistics
from datetime import datetime, timedelta
from typing import Any

COLUMNS = ("category", "source_app", "source_version", "actor_id")
Event = dict[str, Any]  # as posted, plus "workspace" and "at" (a datetime)


def text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else repr(value)


def value_of(event: Event, key: str) -> str | None:
    if key in COLUMNS:
        return event.get(key)
    return text((event.get("properties") or {}).get(key))


def number(value: str) -> float | None:
    return float(value) if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value) else None


def passes(event: Event, rule: dict[str, Any]) -> bool:
    found, op, wanted = value_of(event, rule["key"]), rule["op"], rule.get("value")
    if op == "IS_SET":
        return found is not None
    if op == "IS_NOT_SET":
        return found is None
    if op == "NEQ":
        return found != wanted
    if found is None:
        return False
    if op == "EQ":
        return found == wanted
    if op == "CONTAINS":
        return wanted in found
    a, b = number(found), number(wanted)
    left, right = (a, b) if a is not None and b is not None else (found, wanted)
    return left > right if op == "GT" else left < right  # type: ignore[operator]


def universe(events: list[Event], workspace: str, filters: list[dict[str, Any]]) -> list[Event]:
    return [e for e in events if e["workspace"] == workspace and all(passes(e, f) for f in filters)]


def chosen(events: list[Event], workspace: str, name: str, start: datetime, end: datetime,
           filters: list[dict[str, Any]]) -> list[Event]:
    return [e for e in universe(events, workspace, filters) if e["name"] == name and start <= e["at"] < end]


def measure(events: list[Event], metric: str) -> float:
    if metric == "COUNT":
        return float(len(events))
    field = "actor_id" if metric == "UNIQUE_ACTORS" else "session_id"
    return float(len({e.get(field) for e in events} - {None}))


def truncate(moment: datetime, interval: str) -> datetime:
    if interval == "MINUTE":
        return moment.replace(second=0, microsecond=0)
    if interval == "HOUR":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "DAY":
        return day
    if interval == "WEEK":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def following(bucket: datetime, interval: str) -> datetime:
    if interval == "MONTH":
        return bucket.replace(year=bucket.year + bucket.month // 12, month=bucket.month % 12 + 1)
    return bucket + {"MINUTE": timedelta(minutes=1), "HOUR": timedelta(hours=1),
                     "DAY": timedelta(days=1), "WEEK": timedelta(weeks=1)}[interval]


def timeseries(events: list[Event], workspace: str, name: str, start: datetime, end: datetime,
               interval: str, metric: str, filters: list[dict[str, Any]]) -> list[tuple[datetime, float]]:
    picked = chosen(events, workspace, name, start, end, filters)
    points, bucket = [], truncate(start, interval)
    while bucket < end:
        inside = [e for e in picked if truncate(e["at"], interval) == bucket]
        points.append((bucket, measure(inside, metric)))
        bucket = following(bucket, interval)
    return points


def breakdown(events: list[Event], workspace: str, name: str, prop: str, start: datetime,
              end: datetime, metric: str, filters: list[dict[str, Any]],
              limit: int) -> list[tuple[str | None, float]]:
    groups: dict[str | None, list[Event]] = {}
    for event in chosen(events, workspace, name, start, end, filters):
        groups.setdefault(value_of(event, prop), []).append(event)
    rows = [(value, measure(members, metric)) for value, members in groups.items()]
    rows.sort(key=lambda r: (-r[1], r[0] is None, r[0] or ""))
    return rows[:limit]


def valid(path: tuple[Event, ...], steps: list[str], window: timedelta, order: str,
          mine: list[Event]) -> bool:
    first = path[0]["at"]
    for k, event in enumerate(path):
        if event["name"] != steps[k] or not first <= event["at"] <= first + window:
            return False
        if k and order != "ANY" and event["at"] < path[k - 1]["at"]:
            return False
        if k and order == "STRICT" and any(path[k - 1]["at"] < other["at"] < event["at"]
                                           for other in mine):
            return False
    return True


def funnel(events: list[Event], workspace: str, steps: list[str], start: datetime, end: datetime,
           window: timedelta, order: str, filters: list[dict[str, Any]],
           by: str | None = None) -> dict[str, Any]:
    """{"steps": [(count, rate, median)], "breakdowns": {value: same}} by brute force."""
    actors: dict[str, list[Event]] = {}
    for event in universe(events, workspace, filters):
        actors.setdefault(event["actor_id"], []).append(event)
    counted: list[tuple[list[datetime], str | None]] = []
    for mine in actors.values():
        best: tuple[Any, ...] | None = None
        for size in range(1, len(steps) + 1):
            for path in itertools.permutations(mine, size):
                if not start <= path[0]["at"] < end or not valid(path, steps, window, order, mine):
                    continue
                value = value_of(path[0], by) if by else None
                key = (-size, [e["at"] for e in path], value is None, value or "")
                if best is None or key < best[0]:
                    best = (key, [e["at"] for e in path], value)
        if best is not None:
            counted.append((best[1], best[2]))

    def summary(paths: list[list[datetime]]) -> list[tuple[int, float, float | None]]:
        rows: list[tuple[int, float, float | None]] = []
        for k in range(len(steps)):
            reached = [p for p in paths if len(p) > k]
            gaps = [(p[k] - p[k - 1]).total_seconds() for p in reached] if k else []
            rate = len(reached) / len(paths) if paths else 0.0
            rows.append((len(reached), rate, statistics.median(gaps) if gaps else None))
        return rows

    groups: dict[str | None, list[list[datetime]]] = {}
    for path, value in counted:
        groups.setdefault(value, []).append(path)
    return {"steps": summary([p for p, _ in counted]),
            "breakdowns": {value: summary(paths) for value, paths in groups.items()}}
