"""Cron schedules in a time zone, across daylight-saving changes (Europe/Berlin, 2026: the clock
skips 02:00-03:00 on 29 March and repeats 02:00-03:00 on 25 October)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import ValidationError
from domain.monitor import Monitor
from domain.schedule import CronSchedule, check_schedule

NIGHTLY = {"cron": "30 2 * * *", "tz": "Europe/Berlin"}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def nightly(at: datetime, grace: int = 600) -> Monitor:
    return Monitor.create(monitor_id=uuid.uuid4(), workspace_id=uuid.uuid4(), name="backup",
                          schedule=NIGHTLY, grace_seconds=grace, token="beet_" + "a" * 32,
                          actor={"key_id": None, "name": "test"}, at=at)


def test_a_0230_job_is_due_at_0300_on_the_night_the_clock_skips_0200_to_0300() -> None:
    schedule = CronSchedule.parse(NIGHTLY)
    # The run of 28 March 02:30 CET (01:30 UTC); the next is due when 02:30 would have been:
    # the clock jumps from 02:00 CET straight to 03:00 CEST, which is 01:00 UTC.
    assert schedule.after(utc(2026, 3, 28, 1, 30)) == utc(2026, 3, 29, 1, 0)
    assert schedule.after(utc(2026, 3, 29, 1, 0)) == utc(2026, 3, 30, 0, 30)  # 02:30 CEST


def test_a_0230_job_is_due_once_on_the_night_the_clock_repeats_0200_to_0300() -> None:
    schedule = CronSchedule.parse(NIGHTLY)
    first = schedule.after(utc(2026, 10, 24, 0, 30))
    assert first == utc(2026, 10, 25, 0, 30)  # 02:30 CEST, the first pass
    assert schedule.after(first) == utc(2026, 10, 26, 1, 30)  # not 02:30 CET an hour later


def test_a_half_hourly_job_is_due_in_both_passes_of_the_repeated_hour() -> None:
    schedule = CronSchedule.parse({"cron": "*/30 * * * *", "tz": "Europe/Berlin"})
    due, seen = utc(2026, 10, 24, 23, 45), []
    for _ in range(4):
        due = schedule.after(due)
        seen.append(due)
    assert seen == [utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 0, 30),
                    utc(2026, 10, 25, 1, 0), utc(2026, 10, 25, 1, 30)]


def test_a_monitor_beaten_before_the_skipped_hour_is_late_at_0300_local() -> None:
    m = nightly(utc(2026, 3, 27, 12, 0))
    m.record_beat(None, at=utc(2026, 3, 28, 1, 31))
    assert m.late_at == utc(2026, 3, 29, 1, 0) and m.down_at == utc(2026, 3, 29, 1, 10)
    assert not m.evaluate(at=utc(2026, 3, 29, 0, 59))
    m.record_beat(None, at=utc(2026, 3, 29, 1, 2))  # ran at 03:02 CEST: on time
    assert m.status == "up" and m.late_at == utc(2026, 3, 30, 0, 30)


def test_a_monitor_is_not_late_in_the_second_pass_of_the_repeated_hour() -> None:
    m = nightly(utc(2026, 10, 23, 12, 0))
    m.record_beat(None, at=utc(2026, 10, 25, 0, 31))  # 02:31 CEST, the first pass
    assert not m.evaluate(at=utc(2026, 10, 25, 1, 45))  # 02:45 CET: the second pass expects none
    assert m.status == "up" and m.late_at == utc(2026, 10, 26, 1, 30)
    assert m.evaluate(at=utc(2026, 10, 26, 1, 40)) and m.status == "down"
    assert m.missed_count(utc(2026, 10, 28, 2, 0)) == 3


@pytest.mark.parametrize("schedule, field", [
    ({"cron": "61 * * * *", "tz": "UTC"}, "schedule.cron"),
    ({"cron": "* * * * *", "tz": "Mars/Olympus"}, "schedule.tz"),
    ({"cron": "", "tz": "UTC"}, "schedule.cron"),
    ({"cron": "* * * * *", "every": 5}, "schedule"),
    ("30 2 * * *", "schedule"),
])
def test_a_bad_schedule_is_refused_naming_its_field(schedule: object, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        check_schedule(None, schedule)
    assert refused.value.details[0]["field"] == field


def test_a_period_and_a_schedule_together_are_refused() -> None:
    with pytest.raises(ValidationError):
        check_schedule(60, NIGHTLY)


def test_without_a_grace_a_cron_monitor_waits_one_interval_at_most_an_hour() -> None:
    m = Monitor.create(monitor_id=uuid.uuid4(), workspace_id=uuid.uuid4(), name="backup",
                       schedule={"cron": "*/5 * * * *", "tz": "UTC"}, token="beet_" + "a" * 32,
                       actor={"key_id": None, "name": "test"}, at=utc(2026, 4, 4, 12, 0))
    m.record_beat(None, at=utc(2026, 4, 4, 12, 1))
    assert m.late_at == utc(2026, 4, 4, 12, 5)
    assert m.down_at == m.late_at + timedelta(minutes=5)
