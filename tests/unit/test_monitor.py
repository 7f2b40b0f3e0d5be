"""The monitor aggregate's rules: beats, deadlines, learning, flags, pause, rotation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import ValidationError
from domain.monitor import Monitor

T0 = datetime(2026, 4, 4, 12, 0, tzinfo=UTC)
WHO = {"key_id": "k1", "name": "ops key"}
TOKEN = "beet_" + "a" * 32


def monitor(period: int | None = 60, grace: int | None = 30) -> Monitor:
    return Monitor.create(monitor_id=uuid.uuid4(), workspace_id=uuid.uuid4(), name="nightly",
                          period_seconds=period, grace_seconds=grace, page_slug=None,
                          token=TOKEN, actor=WHO, at=T0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_new_monitor_is_new_until_its_first_beat_and_never_late_before() -> None:
    m = monitor()
    assert m.status == "new" and not m.evaluate(at=at(10_000))
    m.record_beat(None, at=at(5))
    assert m.status == "up" and m.late_at == at(65) and m.down_at == at(95)


def test_late_after_the_period_and_down_after_the_grace_too() -> None:
    m = monitor()
    m.record_beat(None, at=at(0))
    assert not m.evaluate(at=at(59))
    assert m.evaluate(at=at(60)) and m.status == "late"
    assert not m.evaluate(at=at(89)) and m.status == "late"
    assert m.evaluate(at=at(90)) and m.status == "down"
    assert m.missed_count(at(130)) == 2
    m.record_beat(42, at=at(131))
    assert m.status == "up" and m.missed_count(at(131)) == 0
    assert m.recent_beats[-1] == {"at": at(131), "value": 42, "too_frequent": False}


def test_a_monitor_checked_long_after_is_late_then_down_at_their_deadlines() -> None:
    m = monitor()
    m.record_beat(None, at=at(0))
    assert m.evaluate(at=at(500)) and m.status == "down"
    assert m.status_since == at(90)  # down from when the grace ran out, not from the check
    flips = [(e.after, e.effective_at, e.reason) for e in m.collect_events()
             if isinstance(e, Monitor.Flipped)]
    assert flips[-2:] == [("late", at(60), "beat_overdue"), ("down", at(90), "grace_expired")]


def test_without_a_period_it_learns_the_median_interval_once_it_has_three() -> None:
    m = monitor(period=None, grace=None)
    for second in (0, 100, 200):
        m.record_beat(None, at=at(second))
    assert m.expected_seconds is None and m.late_at is None
    m.record_beat(None, at=at(330))  # intervals 100, 100, 130
    assert m.expected_seconds == 100 and m.late_at == at(430)
    assert m.down_at == at(530)  # the default grace is one interval (at most an hour)


def test_only_the_last_twenty_intervals_count() -> None:
    m = monitor(period=None)
    t = 0
    for _ in range(25):
        m.record_beat(None, at=at(t))
        t += 10
    for _ in range(20):
        m.record_beat(None, at=at(t))
        t += 50
    assert m.learned_seconds == 50 and len(m.recent_beats) == 21


def test_beats_far_more_frequent_than_expected_are_flagged() -> None:
    m = monitor(period=60)
    m.record_beat(None, at=at(0))
    m.record_beat(None, at=at(14))  # under 60 / 4
    m.record_beat(None, at=at(74))
    assert [b["too_frequent"] for b in m.recent_beats] == [False, True, False]
    assert m.too_frequent_beats == 1


def test_a_paused_monitor_records_beats_but_is_never_late() -> None:
    m = monitor()
    m.record_beat(None, at=at(0))
    m.pause(actor=WHO, at=at(10))
    m.record_beat(None, at=at(20))
    assert m.status == "paused" and not m.evaluate(at=at(10_000))
    m.resume(actor=WHO, at=at(1000))
    assert m.status == "up" and m.late_at == at(1060)


def test_a_rotated_token_is_no_longer_accepted() -> None:
    m = monitor()
    assert m.accepts(TOKEN)
    m.rotate_token("beet_" + "b" * 32, actor=WHO, at=at(1))
    assert not m.accepts(TOKEN) and m.accepts("beet_" + "b" * 32)
    assert not m.accepts("beet_" + "b" * 31 + "c")


def test_bad_settings_are_refused() -> None:
    for kwargs in ({"period": 5}, {"period": 10 ** 9}, {"grace": -1}):
        with pytest.raises(ValidationError):
            monitor(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        monitor().record_beat(float("nan"), at=at(1))
