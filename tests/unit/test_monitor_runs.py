"""Job runs on the monitor aggregate: start, success, failure, exit codes, timeouts, minimum
runtime, and previews that replay stored signals with the same rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.errors import ValidationError
from domain.monitor import Monitor, send_signal
from domain.preview import flips_of, replay

T0 = datetime(2026, 4, 4, 12, 0, tzinfo=UTC)
WHO = {"key_id": "k1", "name": "ops key"}


def monitor(**config: Any) -> Monitor:
    return Monitor.create(monitor_id=uuid.uuid4(), workspace_id=uuid.uuid4(), name="etl",
                          token="beet_" + "a" * 32, actor=WHO, at=T0,
                          **{"period_seconds": 3600, "grace_seconds": 60, **config})


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def flips(m: Monitor) -> list[tuple[str, str, datetime]]:
    return [(e.after, e.reason, e.effective_at) for e in m.collect_events()
            if isinstance(e, Monitor.Flipped)]


def test_a_start_without_a_success_changes_nothing_until_a_deadline() -> None:
    m = monitor()
    m.record_beat(None, at=at(0))
    m.start_run(at=at(3500), rid="r1")
    assert m.status == "up" and "r1" in m.open_runs
    m.evaluate(at=at(3660))
    assert m.status == "down" and flips(m)[-1] == ("down", "grace_expired", at(3660))


def test_success_closes_its_run_and_counts_as_the_beat() -> None:
    m = monitor()
    m.start_run(at=at(0), rid="r1")
    m.record_beat(None, at=at(42), rid="r1")
    beat = [e for e in m.collect_events() if isinstance(e, Monitor.BeatRecorded)][-1]
    assert beat.started_at == at(0) and m.open_runs == {}
    assert m.status == "up" and m.last_beat_at == at(42) and m.late_at == at(3642)


def test_fail_marks_the_monitor_down_at_once_with_the_reason() -> None:
    m = monitor()
    m.record_beat(None, at=at(0))
    m.start_run(at=at(10))
    m.record_failure(at=at(20), body="disk full")
    assert m.status == "down" and m.status_since == at(20) and m.open_runs == {}
    assert flips(m)[-1] == ("down", "fail", at(20))
    m.record_beat(None, at=at(30))
    assert m.status == "up"


@pytest.mark.parametrize("exit_status, status, reason", [(0, "up", "success"),
                                                         (1, "down", "exit_status"),
                                                         (255, "down", "exit_status")])
def test_an_exit_status_of_zero_is_a_success_and_any_other_a_failure(
        exit_status: int, status: str, reason: str) -> None:
    m = monitor()
    send_signal(m, "success", at=at(5), exit_status=exit_status)
    events = m.collect_events()
    assert m.status == status
    assert [(e.after, e.reason) for e in events if isinstance(e, Monitor.Flipped)][-1] == \
        (status, reason)
    recorded = [e for e in events if isinstance(e, Monitor.FailureRecorded | Monitor.BeatRecorded)]
    assert recorded[-1].exit_status == exit_status


def test_a_run_open_longer_than_the_max_runtime_is_down_at_its_deadline() -> None:
    m = monitor(max_runtime_seconds=300)
    m.record_beat(None, at=at(0))
    m.start_run(at=at(100), rid="slow")
    assert not m.evaluate(at=at(399))
    assert m.evaluate(at=at(450)) and m.status == "down" and m.status_since == at(400)
    assert flips(m)[-1] == ("down", "run_timeout", at(400)) and m.open_runs["slow"]["timed_out"]
    assert not m.evaluate(at=at(500))  # one timeout, once
    m.record_beat(None, at=at(600), rid="slow")  # it did finish: up again, the run closed
    assert m.status == "up" and m.open_runs == {}


def test_a_run_shorter_than_the_min_runtime_counts_as_failed() -> None:
    m = monitor(min_runtime_seconds=60)
    m.record_beat(None, at=at(0))
    m.start_run(at=at(100))
    m.record_beat(None, at=at(105))
    assert m.status == "down" and flips(m)[-1] == ("down", "run_too_short", at(105))
    assert m.last_beat_at == at(0)  # a run that did not do its work is not the beat
    m.start_run(at=at(200))
    m.record_beat(None, at=at(300))
    assert m.status == "up"


def test_runs_with_different_rids_are_timed_apart() -> None:
    m = monitor(max_runtime_seconds=100)
    m.start_run(at=at(0), rid="a")
    m.start_run(at=at(50), rid="b")
    m.record_beat(None, at=at(90), rid="a")
    assert set(m.open_runs) == {"b"}
    m.evaluate(at=at(160))
    assert flips(m)[-1] == ("down", "run_timeout", at(150))


def test_a_paused_monitor_records_signals_but_never_goes_down() -> None:
    m = monitor(max_runtime_seconds=10)
    m.pause(actor=WHO, at=at(0))
    m.start_run(at=at(1))
    m.record_failure(at=at(2))
    m.evaluate(at=at(100))
    assert m.status == "paused"


def test_a_runtime_minimum_above_the_maximum_is_refused() -> None:
    with pytest.raises(ValidationError):
        monitor(min_runtime_seconds=100, max_runtime_seconds=50)


def test_a_preview_of_the_monitors_own_settings_answers_the_flips_it_went_through() -> None:
    m = monitor(max_runtime_seconds=600)
    script = [("success", 0), ("start", 3000), ("success", 3100), ("fail", 5000),
              ("success", 5100), ("start", 8000), ("success", 20000), ("log", 20001)]
    for kind, second in script:
        send_signal(m, kind, at=at(second))
        m.evaluate(at=at(second + 1))
    m.evaluate(at=at(30_000))
    events = m.collect_events()
    lived = flips_of(events, T0, at(30_000))
    probe = replay(m, events, {}, at(30_000))
    assert flips_of(probe.collect_events(), T0, at(30_000)) == lived
    assert [f["reason"] for f in lived] == ["success", "fail", "success", "run_timeout",
                                            "success", "beat_overdue", "grace_expired"]


def test_a_preview_of_another_period_answers_other_flips_and_changes_nothing() -> None:
    m = monitor()
    for second in (0, 3000, 6000):
        m.record_beat(None, at=at(second))
    before = m.version
    probe = replay(m, m.collect_events(), {"period_seconds": 1800, "grace_seconds": 0},
                   at(7000))
    assert [(f["after"], f["at"]) for f in flips_of(probe.collect_events(), T0, at(7000))] == [
        ("up", at(0)), ("late", at(1800)), ("down", at(1800)), ("up", at(3000)),
        ("late", at(4800)), ("down", at(4800)), ("up", at(6000))]
    assert m.version == before


def test_events_an_earlier_release_stored_read_with_what_they_could_have_meant() -> None:
    m = monitor()
    m.record_beat(None, at=at(0))
    m.trigger_event(Monitor.StatusChanged, timestamp=at(4000), before="up", after="down",
                    since=at(0), effective_at=at(3660))  # as recorded before reasons were kept
    old_beat = object.__new__(Monitor.BeatRecorded)  # as the mapper decodes a stored event
    object.__setattr__(old_beat, "__dict__", {"value": 1.0, "too_frequent": False})
    assert (old_beat.rid, old_beat.body, old_beat.exit_status, old_beat.started_at) == \
        (None, None, None, None)
    assert [(f["after"], f["reason"]) for f in flips_of(m.collect_events(), T0, at(5000))] == \
        [("up", "success"), ("down", "grace_expired")]


def test_a_run_timing_out_on_a_monitor_already_down_is_recorded_once_without_a_flip() -> None:
    m = monitor(max_runtime_seconds=60)
    m.record_failure(at=at(0))
    m.start_run(at=at(10), rid="late")
    assert m.evaluate(at=at(100))  # recorded, so the check saves it and stops finding it due
    events = m.collect_events()
    assert [type(e).__name__ for e in events][-1] == "RunTimedOut" and m.status == "down"
    assert not m.evaluate(at=at(200))
