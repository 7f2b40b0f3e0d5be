"""Beacon's one fast formatter of stored times (the live stream and the content hash use it)
spells every time as datetime's ISO format does, with microseconds and a Z."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.time import MAX_US, MIN_US, NAIVE_EPOCH, iso_of_micros, micros


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
