"""Time buckets (UTC minutes to months, ISO weeks) and the rules a question must meet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import ValidationError
from projections.analytics_questions import (
    MAX_BUCKETS,
    FilterOp,
    Interval,
    PropertyFilter,
    bucket_starts,
    check_filters,
    check_funnel,
    check_range,
    floor_to,
)
from projections.model import from_micros, micros


def starts(start: datetime, end: datetime, interval: Interval) -> list[datetime | None]:
    return [from_micros(b) for b in bucket_starts(micros(start), micros(end), interval)]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_weeks_start_on_monday_even_before_the_epoch() -> None:
    assert from_micros(floor_to(micros(utc(2026, 3, 8, 23, 59)), Interval.WEEK)) == utc(2026, 3, 2)
    assert from_micros(floor_to(micros(utc(1969, 12, 31)), Interval.WEEK)) == utc(1969, 12, 29)
    assert from_micros(floor_to(micros(utc(1960, 5, 5, 3)), Interval.HOUR)) == utc(1960, 5, 5, 3)


def test_buckets_cover_a_range_that_starts_and_ends_mid_bucket() -> None:
    assert starts(utc(2026, 3, 1, 10, 30), utc(2026, 3, 1, 13, 0), Interval.HOUR) == \
        [utc(2026, 3, 1, 10), utc(2026, 3, 1, 11), utc(2026, 3, 1, 12)]
    assert starts(utc(2026, 3, 1, 10, 30), utc(2026, 3, 1, 13, 0, 1), Interval.HOUR)[-1] == \
        utc(2026, 3, 1, 13)


def test_months_follow_the_calendar_across_a_year() -> None:
    assert starts(utc(2025, 11, 15), utc(2026, 2, 1), Interval.MONTH) == \
        [utc(2025, 11, 1), utc(2025, 12, 1), utc(2026, 1, 1)]


def test_too_many_buckets_is_refused_with_advice() -> None:
    start = utc(2026, 1, 1)
    assert len(starts(start, start + timedelta(minutes=MAX_BUCKETS), Interval.MINUTE)) == MAX_BUCKETS
    with pytest.raises(ValidationError, match="coarser interval"):
        starts(start, start + timedelta(days=35), Interval.MINUTE)


def test_a_range_must_run_forwards() -> None:
    with pytest.raises(ValidationError, match="before to"):
        check_range(utc(2026, 1, 2), utc(2026, 1, 1))
    assert check_range(utc(2026, 1, 1), utc(2026, 1, 2))[1] - check_range(
        utc(2026, 1, 1), utc(2026, 1, 2))[0] == 86_400 * 1_000_000


def test_funnels_take_two_to_ten_steps_and_a_positive_window() -> None:
    assert check_funnel(["a", "b"], 60) == (("a", "b"), 60_000_000)
    for steps, window in ((["a"], 60), (["a"] * 11, 60), (["a", "b"], 0), (["a", ""], 60)):
        with pytest.raises(ValidationError):
            check_funnel(steps, window)


def test_comparisons_need_a_value_but_presence_checks_do_not() -> None:
    assert check_filters([PropertyFilter("plan", FilterOp.IS_SET)])
    with pytest.raises(ValidationError, match="required for GT"):
        check_filters([PropertyFilter("plan", FilterOp.GT)])
