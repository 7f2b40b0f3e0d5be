"""One contract for the analytics SQL on SQLite and PostgreSQL: property text forms, keys with odd
characters, numeric versus text comparison, buckets before the epoch, tenant isolation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.tracked_event import check_event
from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon, bootstrap
from projections.analytics_questions import EventQuery, FilterOp, Interval, Metric, PropertyFilter
from projections.model import micros

START = datetime(1969, 12, 31, 23, 0, tzinfo=UTC)
PROPERTIES: list[dict[str, Any]] = [
    {"v": "text", "a.b": 1, 'q"k': "x"}, {"v": True, "n": 9}, {"v": False, "n": 10},
    {"v": 42, "n": 100}, {"v": 2.5, "n": "abc"}, {"v": None, "n": -3}, {"v": {"x": [1]}},
    {"n": "9.5"}, {},
]


@pytest.fixture
def loaded(settings: Settings) -> Iterator[tuple[Beacon, str]]:
    beacon = bootstrap(settings)
    workspace, other = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    for target in (workspace, other):
        events = [check_event({"event_id": str(uuid.uuid4()), "category": "c", "name": "e",
                               "timestamp": (START + timedelta(minutes=30 * i)).isoformat(),
                               "actor_id": f"a{i}", "properties": props}, now)
                  for i, props in enumerate(PROPERTIES)]
        beacon.telemetry.ingest(target, events, limit=1000)  # type: ignore[arg-type]
    beacon.runner("events").catch_up()
    try:
        yield beacon, str(workspace)
    finally:
        beacon.close()


def question(workspace: str, *filters: PropertyFilter) -> EventQuery:
    return EventQuery(workspace, "e", micros(START), micros(START + timedelta(days=1)),
                      Metric.COUNT, filters)


def test_property_values_group_by_one_text_form_on_both_backends(loaded: tuple[Beacon, str]) -> None:
    beacon, workspace = loaded
    rows = dict(beacon.analytics.breakdown(question(workspace), "v", 25))
    assert set(rows) == {"text", "true", "false", "42", "2.5", None, '{"x": [1]}', '{"x":[1]}'} - \
        ({'{"x":[1]}'} if beacon.analytics.dialect == "postgres" else {'{"x": [1]}'})  # type: ignore[attr-defined]
    assert rows[None] == 3.0  # JSON null and a missing key are both unset
    assert dict(beacon.analytics.breakdown(question(workspace), "a.b", 25)) == {"1": 1.0, None: 8.0}
    assert dict(beacon.analytics.breakdown(question(workspace), 'q"k', 25)) == {"x": 1.0, None: 8.0}


@pytest.mark.parametrize("rule, expected", [
    (PropertyFilter("n", FilterOp.GT, "9"), 4),  # 10, 100, "9.5" as numbers; "abc" > "9" as text
    (PropertyFilter("n", FilterOp.LT, "9.6"), 3),  # 9, -3, "9.5"
    (PropertyFilter("n", FilterOp.GT, "A"), 1),  # text: only "abc" (numbers' text starts lower)
    (PropertyFilter("n", FilterOp.EQ, "9"), 1), (PropertyFilter("v", FilterOp.EQ, "true"), 1),
    (PropertyFilter("v", FilterOp.NEQ, "true"), 8), (PropertyFilter("v", FilterOp.CONTAINS, "ex"), 1),
    (PropertyFilter("v", FilterOp.IS_SET), 6), (PropertyFilter("v", FilterOp.IS_NOT_SET), 3),
    (PropertyFilter("actor_id", FilterOp.EQ, "a3"), 1), (PropertyFilter("category", FilterOp.NEQ, "c"), 0),
])
def test_filters_mean_the_same_on_both_backends(loaded: tuple[Beacon, str], rule: PropertyFilter,
                                                expected: int) -> None:
    beacon, workspace = loaded
    assert beacon.analytics.metric(question(workspace, rule)) == expected


def test_buckets_before_the_epoch_and_distinct_counts(loaded: tuple[Beacon, str]) -> None:
    beacon, workspace = loaded
    months = beacon.analytics.timeseries(question(workspace), Interval.MONTH)
    assert [(datetime.fromtimestamp(b / 1e6, UTC).month, v) for b, v in months] == [(12, 2.0), (1, 7.0)]
    hours = beacon.analytics.timeseries(question(workspace), Interval.HOUR)
    assert [v for _, v in hours[:6]] == [2.0, 2.0, 2.0, 2.0, 1.0, 0.0] and len(hours) == 24
    sessions = EventQuery(workspace, "e", micros(START), micros(START + timedelta(days=1)), Metric.SESSIONS)
    assert beacon.analytics.metric(sessions) == 0.0  # no event has a session
    assert beacon.analytics.metric(question(str(uuid.uuid4()))) == 0.0
