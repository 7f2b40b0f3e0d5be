"""Analytics over tracked events: `timeseries`, `breakdown`, `metric` and `funnel`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from starlette.concurrency import run_in_threadpool

from interfaces.graphql.context import Ctx
from projections import analytics_questions as questions
from projections.analytics_questions import check_limit, event_query, funnel_query
from projections.model import from_micros

From = Annotated[datetime, strawberry.argument(name="from", description="Inclusive, the events' own time.")]
To = Annotated[datetime, strawberry.argument(name="to", description="Exclusive.")]
DEFAULT_WINDOW = 14 * 86_400
COUNT = questions.Metric.COUNT

Interval = strawberry.enum(questions.Interval, description="Buckets in UTC; weeks start on Monday.")
Metric = strawberry.enum(questions.Metric, description="COUNT events, distinct actors, or distinct "
                                                       "sessions (events without one count for none).")
FilterOp = strawberry.enum(questions.FilterOp, description="GT/LT compare numbers when both sides "
                                                           "are numbers, else text by code point.")
FunnelOrder = strawberry.enum(questions.FunnelOrder, description=(
    "SEQUENTIAL: other events may come between steps. STRICT: no other event of the actor "
    "(among the filtered events) strictly between two steps. ANY: steps 2..n in any order after "
    "step 1."))


@strawberry.input(name="PropertyFilter", description="Keep events whose `key` (a property, or "
                  "category, source_app, source_version, actor_id) passes `op` against `value`.")
class PropertyFilterInput:
    key: str
    op: questions.FilterOp
    value: str | None = None

    def to_filter(self) -> questions.PropertyFilter:
        return questions.PropertyFilter(self.key, self.op, self.value)


Filters = list[PropertyFilterInput] | None


def _filters(filters: Filters) -> list[questions.PropertyFilter]:
    return [f.to_filter() for f in filters or []]


@strawberry.type(description="One bucket of a timeseries.")
class TimeseriesPoint:
    bucket: datetime
    value: float


@strawberry.type(description="One value of a property and its metric.")
class BreakdownRow:
    value: str | None = strawberry.field(description="Null for events without the property.")
    count: float


@strawberry.type(description="How many distinct actors reached a step of a funnel.")
class FunnelStep:
    name: str
    count: int
    conversion_rate: float = strawberry.field(description="count / the first step's count.")
    median_seconds_from_previous: float | None = strawberry.field(
        description="Median time from the previous step on the counted paths; null for step 1.")

    @classmethod
    def of(cls, step: questions.FunnelStep) -> FunnelStep:
        return cls(name=step.name, count=step.count, conversion_rate=step.conversion_rate,
                   median_seconds_from_previous=step.median_seconds_from_previous)


@strawberry.type(description="The funnel of the actors whose step-1 event had this value.")
class FunnelBreakdown:
    value: str | None
    steps: list[FunnelStep]


@strawberry.type(description="A funnel: each step, and optionally the same split by a property.")
class Funnel:
    steps: list[FunnelStep]
    breakdowns: list[FunnelBreakdown] | None

    @classmethod
    def of(cls, funnel: questions.Funnel) -> Funnel:
        breakdowns = None if funnel.breakdowns is None else [
            FunnelBreakdown(value=b.value, steps=[FunnelStep.of(s) for s in b.steps])
            for b in funnel.breakdowns]
        return cls(steps=[FunnelStep.of(s) for s in funnel.steps], breakdowns=breakdowns)


Event = Annotated[str | None, strawberry.argument(description="An event name; null: every event.")]


async def timeseries(info: Ctx, from_: From, to: To, event: Event = None,
                     interval: questions.Interval | None = questions.Interval.HOUR,
                     metric: questions.Metric | None = questions.Metric.COUNT,
                     filters: Filters = None) -> list[TimeseriesPoint]:
    """The metric of one event per bucket, every bucket of the range present (zeros included)."""
    ctx = info.context
    query = event_query(str(ctx.workspace_id), event, from_, to, metric or COUNT, _filters(filters))
    points = await run_in_threadpool(ctx.beacon.analytics.timeseries, query,
                                     interval or questions.Interval.HOUR)
    return [TimeseriesPoint(bucket=from_micros(b), value=v) for b, v in points]


async def breakdown(info: Ctx, event: str, property: str, from_: From, to: To,
                    metric: questions.Metric | None = questions.Metric.COUNT, filters: Filters = None,
                    limit: int | None = 25) -> list[BreakdownRow]:
    """The metric of one event per value of a property, largest first (ties by value)."""
    ctx = info.context
    query = event_query(str(ctx.workspace_id), event, from_, to, metric or COUNT, _filters(filters))
    rows = await run_in_threadpool(ctx.beacon.analytics.breakdown, query, property,
                                   check_limit(25 if limit is None else limit))
    return [BreakdownRow(value=value, count=count) for value, count in rows]


async def metric(info: Ctx, from_: From, to: To, event: Event = None,
                 metric: questions.Metric | None = questions.Metric.COUNT,
                 filters: Filters = None) -> float:
    """The metric of one event over the whole range."""
    ctx = info.context
    query = event_query(str(ctx.workspace_id), event, from_, to, metric or COUNT, _filters(filters))
    return await run_in_threadpool(ctx.beacon.analytics.metric, query)


async def top_events(info: Ctx, from_: From, to: To,
                     metric: questions.Metric | None = questions.Metric.COUNT, filters: Filters = None,
                     limit: int | None = 25) -> list[BreakdownRow]:
    """Every event name in the range with its metric, largest first (ties by name)."""
    ctx = info.context
    query = event_query(str(ctx.workspace_id), None, from_, to, metric or COUNT, _filters(filters))
    rows = await run_in_threadpool(ctx.beacon.analytics.top_events, query,
                                   check_limit(25 if limit is None else limit))
    return [BreakdownRow(value=name, count=count) for name, count in rows]


async def funnel(info: Ctx, steps: list[str], from_: From, to: To,
                 window_seconds: int | None = DEFAULT_WINDOW,
                 order: questions.FunnelOrder | None = questions.FunnelOrder.SEQUENTIAL,
                 filters: Filters = None, breakdown: str | None = None,
                 breakdown_limit: int | None = 25) -> Funnel:
    """Distinct actors through 2-10 steps, step 1 inside the range, all within the window of it."""
    ctx = info.context
    query = funnel_query(str(ctx.workspace_id), steps, from_, to,
                         window_seconds=DEFAULT_WINDOW if window_seconds is None else window_seconds,
                         order=order or questions.FunnelOrder.SEQUENTIAL, filters=_filters(filters),
                         breakdown=breakdown,
                         breakdown_limit=25 if breakdown_limit is None else breakdown_limit)
    return Funnel.of(await run_in_threadpool(ctx.beacon.analytics.funnel, query))
