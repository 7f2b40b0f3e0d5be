"""Beacon's one fast formatter of stored times (the live stream and the content hash use it)
spells every time as datetime's ISO format does, with microseconds and a Z."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.time import MAX_US, MIN_US, NAIVE_EPOCH, iso_of_micros, micros, start_of, whole_units


@given(st.integers(min_value=MIN_US, max_value=MAX_US))
def test_a_time_in_microseconds_is_spelled_as_datetime_spells_it(us: int) -> None:
    moment = NAIVE_EPOCH + timedelta(microseconds=us)
    assert iso_of_micros(us) == moment.isoformat(timespec="microseconds") + "Z"


def test_times_around_the_epoch_and_the_ends_of_the_calendar() -> None:
    assert iso_of_micros(0) == "1970-01-01T00:00:00.000000Z"
    assert iso_of_micros(-1) == "1969-12-31T23:59:59.999999Z"
    assert iso_of_micros(micros(datetime(2026, 3, 2, 9, 47, 36, 5, tzinfo=UTC))) == \
        "2026-03-02T09:47:36.000005Z"
    assert iso_of_micros(MIN_US) == "0001-01-01T00:00:00.000000Z"
    assert iso_of_micros(MAX_US) == "9999-12-31T23:59:59.999999Z"


UNITS = st.sampled_from([1_000_000, 60_000_000, 3_600_000_000])  # a second, a minute, an hour


@given(st.integers(min_value=MIN_US, max_value=MAX_US), UNITS)
def test_a_moment_falls_in_the_unit_that_starts_where_datetime_truncates_it(us: int,
                                                                            unit: int) -> None:
    moment = NAIVE_EPOCH + timedelta(microseconds=us)
    truncated = {1_000_000: moment.replace(microsecond=0),
                 60_000_000: moment.replace(second=0, microsecond=0),
                 3_600_000_000: moment.replace(minute=0, second=0, microsecond=0)}[unit]
    assert start_of(us, unit) == (truncated - NAIVE_EPOCH) // timedelta(microseconds=1)


@given(st.integers(min_value=MIN_US, max_value=MAX_US),
       st.integers(min_value=0, max_value=10 * 3_600_000_000), UNITS)
def test_whole_units_are_the_units_a_span_holds_entirely(start: int, length: int, unit: int) -> None:
    end = start + length
    first, last = whole_units(start, end, unit)
    assert first % unit == 0 and last % unit == 0
    assert start <= first < start + unit and end - unit < last <= end
    held = [u for u in range(start_of(start, unit), end, unit) if start <= u and u + unit <= end]
    assert bool(held) == (first < last)
    if held:
        assert (first, last) == (held[0], held[-1] + unit)
