"""The analytics engine's vocabulary: questions over tracked events, their rules, and time buckets.

Times are integer microseconds since the epoch (UTC), the events' own timestamps; a range is
`[start, end)`. Property values are compared in their text form (see `docs/analytics.md`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

from domain.errors import ValidationError
from projections.model import from_micros, micros

MAX_BUCKETS = 50_000
MAX_LIMIT = 1000
MIN_STEPS, MAX_STEPS = 2, 10
MAX_FILTERS = 20
COLUMN_KEYS = ("category", "source_app", "source_version", "actor_id")  # any other key is a property
# ...or one of the enriched dimensions ($country, $region, $city, $browser, $os, $device_type):
# projections/enrichment.py DIMENSIONS.
NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"  # the text a GT/LT comparison treats as a number


class Interval(Enum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Metric(Enum):
    COUNT = "count"
    UNIQUE_ACTORS = "unique_actors"
    SESSIONS = "sessions"


class FilterOp(Enum):
    EQ = "eq"
    NEQ = "neq"
    CONTAINS = "contains"
    GT = "gt"
    LT = "lt"
    IS_SET = "is_set"
    IS_NOT_SET = "is_not_set"


class FunnelOrder(Enum):
    SEQUENTIAL = "sequential"
    STRICT = "strict"
    ANY = "any"


NEEDS_VALUE = (FilterOp.EQ, FilterOp.NEQ, FilterOp.CONTAINS, FilterOp.GT, FilterOp.LT)
STEP_MICROS = {Interval.MINUTE: 60_000_000, Interval.HOUR: 3_600_000_000,
               Interval.DAY: 86_400_000_000, Interval.WEEK: 7 * 86_400_000_000}
MONDAY = -3 * 86_400_000_000  # 1969-12-29, the Monday before the epoch: ISO weeks start here


@dataclass(frozen=True)
class PropertyFilter:
    """Keep events whose `key` (a property, or one of COLUMN_KEYS) passes `op` against `value`."""

    key: str
    op: FilterOp
    value: str | None = None


@dataclass(frozen=True)
class EventQuery:
    """Events of one name (or every event, when None) in a workspace and a time range, filtered,
    measured by a metric."""

    workspace_id: str
    event: str | None
    start: int
    end: int
    metric: Metric = Metric.COUNT
    filters: tuple[PropertyFilter, ...] = ()
    # Only events received by this moment (µs): what was known then (alert previews).
    received_by: int | None = None


@dataclass(frozen=True)
class FunnelQuery:
    """Actors entering with `steps[0]` inside `[start, end)` and how far they got in `window` µs."""

    workspace_id: str
    steps: tuple[str, ...]
    start: int
    end: int
    window: int
    order: FunnelOrder = FunnelOrder.SEQUENTIAL
    filters: tuple[PropertyFilter, ...] = ()
    breakdown: str | None = None
    breakdown_limit: int = 25


@dataclass(frozen=True)
class FunnelStep:
    name: str
    count: int
    conversion_rate: float
    median_seconds_from_previous: float | None


@dataclass(frozen=True)
class FunnelBreakdown:
    value: str | None
    steps: list[FunnelStep]


@dataclass(frozen=True)
class Funnel:
    steps: list[FunnelStep]
    breakdowns: list[FunnelBreakdown] | None = field(default=None)


def problem(field_name: str, message: str) -> ValidationError:
    return ValidationError(f"{field_name} {message}", details=[{"field": field_name, "message": message}])


def check_range(start: datetime, end: datetime) -> tuple[int, int]:
    """The range in µs; `from` must come before `to`."""
    if start.tzinfo is None or end.tzinfo is None:
        raise problem("from", "and to need a UTC offset")
    if start >= end:
        raise problem("from", "must be before to")
    return micros(start), micros(end)


def check_filters(filters: list[PropertyFilter] | tuple[PropertyFilter, ...] | None
                  ) -> tuple[PropertyFilter, ...]:
    """At most MAX_FILTERS; comparisons need a value, and every key a name."""
    filters = tuple(filters or ())
    if len(filters) > MAX_FILTERS:
        raise problem("filters", f"at most {MAX_FILTERS}")
    for each in filters:
        if not each.key:
            raise problem("filters.key", "must not be empty")
        if each.op in NEEDS_VALUE and each.value is None:
            raise problem("filters.value", f"is required for {each.op.name}")
    return filters


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise problem("limit", f"must be between 1 and {MAX_LIMIT}, got {limit}")
    return limit


def check_funnel(steps: list[str], window_seconds: int) -> tuple[tuple[str, ...], int]:
    """2-10 named steps and a positive window (returned in µs)."""
    if not MIN_STEPS <= len(steps) <= MAX_STEPS:
        raise problem("steps", f"must be {MIN_STEPS}-{MAX_STEPS} event names, not {len(steps)}")
    if any(not step for step in steps):
        raise problem("steps", "must be event names, not empty")
    if window_seconds <= 0:
        raise problem("windowSeconds", f"must be positive, got {window_seconds}")
    return tuple(steps), window_seconds * 1_000_000


def event_query(workspace_id: str, event: str | None, start: datetime, end: datetime, metric: Metric,
                filters: list[PropertyFilter] | None) -> EventQuery:
    """A checked question about one event name, or every event when `event` is None."""
    if event is not None and not event:
        raise problem("event", "must be an event name, not empty")
    first, last = check_range(start, end)
    return EventQuery(workspace_id, event, first, last, metric, check_filters(filters))


def funnel_query(workspace_id: str, steps: list[str], start: datetime, end: datetime, *,
                 window_seconds: int, order: FunnelOrder, filters: list[PropertyFilter] | None,
                 breakdown: str | None, breakdown_limit: int = 25) -> FunnelQuery:
    """A checked funnel question."""
    names, window = check_funnel(steps, window_seconds)
    first, last = check_range(start, end)
    if breakdown == "":
        raise problem("breakdown", "must be a property name, not empty")
    return FunnelQuery(workspace_id, names, first, last, window, order, check_filters(filters),
                       breakdown, check_limit(breakdown_limit))


def month_number(moment_us: int) -> int:
    """Months since year 0 of the UTC month holding `moment_us`."""
    moment = from_micros(moment_us)
    assert moment is not None
    return moment.year * 12 + moment.month - 1


def floor_to(moment_us: int, interval: Interval) -> int:
    """The start of the bucket holding `moment_us`: UTC minutes, hours, days, ISO weeks, months."""
    if interval is Interval.MONTH:
        number = month_number(moment_us)
        return micros(datetime(number // 12, number % 12 + 1, 1, tzinfo=UTC))
    origin = MONDAY if interval is Interval.WEEK else 0
    step = STEP_MICROS[interval]
    return origin + (moment_us - origin) // step * step


def bucket_starts(start: int, end: int, interval: Interval) -> list[int]:
    """Every bucket that meets `[start, end)`, in order; refused past MAX_BUCKETS."""
    first = floor_to(start, interval)
    if interval is Interval.MONTH:
        months = range(month_number(start), month_number(end - 1) + 1)
        if len(months) > MAX_BUCKETS:
            raise too_many_buckets(len(months), interval)
        return [micros(datetime(n // 12, n % 12 + 1, 1, tzinfo=UTC)) for n in months]
    step = STEP_MICROS[interval]
    count = (end - 1 - first) // step + 1
    if count > MAX_BUCKETS:
        raise too_many_buckets(count, interval)
    return [first + n * step for n in range(count)]


def too_many_buckets(count: int, interval: Interval) -> ValidationError:
    return problem("interval", f"{interval.name} over this range makes {count:,} buckets; at most "
                               f"{MAX_BUCKETS:,}: use a coarser interval or a shorter range")


class AnalyticsQueries(ABC):
    """Answers over the `rm_events` read model; every answer is confined to one workspace."""

    @abstractmethod
    def timeseries(self, query: EventQuery, interval: Interval) -> list[tuple[int, float]]:
        """(bucket start µs, value) for every bucket of the range, zeros included."""

    @abstractmethod
    def breakdown(self, query: EventQuery, prop: str, limit: int) -> list[tuple[str | None, float]]:
        """(value, metric) largest first, ties by value; events without `prop` under None."""

    @abstractmethod
    def metric(self, query: EventQuery) -> float:
        """The metric over the whole range."""

    @abstractmethod
    def top_events(self, query: EventQuery, limit: int) -> list[tuple[str, float]]:
        """(event name, metric) of every event name in the range, largest first, ties by name."""

    @abstractmethod
    def funnel(self, query: FunnelQuery) -> Funnel:
        """How many distinct actors reached each step (see projections.funnel)."""
