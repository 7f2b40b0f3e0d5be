"""What a log entry touches for alert evaluation: only what a rule watches, and exactly that."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from application.alert_sources import (
    newest_by_name,
    reaches,
    touched_by_monitoring,
    touched_by_telemetry,
    watched_by,
    watchers,
)
from application.stored_batches import batch_accepted
from domain.exception_report import ExceptionReport
from domain.monitor import Monitor
from domain.time import micros
from domain.tracked_event import TrackedEvent

AT = datetime(2026, 4, 4, 12, 0, tzinfo=UTC)
WORKSPACE, OTHER = uuid4(), uuid4()


def batch(workspace: UUID, *names: str, properties: dict[str, Any] | None = None,
          ages: tuple[int, ...] = ()) -> Any:
    """A batch received at AT; each event `ages[n]` seconds before it (0 by default)."""
    events = [TrackedEvent(event_id=str(uuid4()), category="shop", name=name,
                           timestamp_us=micros(AT) - (ages[n] if n < len(ages) else 0) * 10**6,
                           actor_id="user-1", properties=properties)
              for n, name in enumerate(names)]
    return batch_accepted(workspace, events, AT)


def threshold(workspace: UUID, event: str) -> dict[str, Any]:
    return {"id": str(uuid4()), "workspace_id": str(workspace),
            "condition": {"type": "threshold", "event": event}}


def watching(*rules: dict[str, Any]) -> dict[str, frozenset[str]]:
    return watched_by(watchers(list(rules)))


def test_a_batch_touches_only_the_watched_names_it_carries() -> None:
    watched = watching(threshold(WORKSPACE, "checkout_failed"), threshold(WORKSPACE, "signup"))
    touched = list(touched_by_telemetry(batch(WORKSPACE, "page_viewed", "checkout_failed",
                                              "checkout_failed"), watched))
    assert touched == [(str(WORKSPACE), "checkout_failed", AT, 0)]


def test_a_batch_without_a_watched_name_touches_nothing() -> None:
    watched = watching(threshold(WORKSPACE, "checkout_failed"))
    assert list(touched_by_telemetry(batch(WORKSPACE, "page_viewed", "signup"), watched)) == []


def test_a_watched_name_in_a_property_is_not_an_event_of_that_name() -> None:
    watched = watching(threshold(WORKSPACE, "checkout_failed"))
    carried = batch(WORKSPACE, "page_viewed", properties={"name": "checkout_failed"})
    assert list(touched_by_telemetry(carried, watched)) == []


def test_another_workspaces_rule_on_the_same_name_is_not_touched() -> None:
    watched = watching(threshold(OTHER, "checkout_failed"))
    assert list(touched_by_telemetry(batch(WORKSPACE, "checkout_failed"), watched)) == []


def test_names_that_json_escapes_are_read_as_sent() -> None:
    odd = 'quote " back \\ slash / é ✓'
    assert set(newest_by_name(batch(WORKSPACE, odd, "plain").events_json, AT)) == {odd, "plain"}
    watched = watching(threshold(WORKSPACE, odd))
    assert [t[1] for t in touched_by_telemetry(batch(WORKSPACE, odd), watched)] == [odd]


def test_an_exception_report_touches_its_workspaces_exception_group_rules_only() -> None:
    report = ExceptionReport.receive(workspace_id=WORKSPACE, exception_id="e-1", at=AT,
                                     report={"exception_type": "ValueError", "message": "x"})
    reported = report.collect_events()[0]
    groups = {"id": str(uuid4()), "workspace_id": str(WORKSPACE),
              "condition": {"type": "exception_group", "trigger": "new"}}
    assert list(touched_by_telemetry(reported, watching(groups))) == [(str(WORKSPACE), "*", AT, 0)]
    assert list(touched_by_telemetry(reported, watching(threshold(WORKSPACE, "x")))) == []


def test_a_monitor_flip_touches_only_a_watched_monitor() -> None:
    watched_monitor, other_monitor = uuid4(), uuid4()
    rule = {"id": str(uuid4()), "workspace_id": str(WORKSPACE),
            "condition": {"type": "monitor", "monitor_id": str(watched_monitor)}}

    def flip(monitor: UUID, before: str = "up", after: str = "down") -> Any:
        return Monitor.StatusChanged(originator_id=monitor, originator_version=2, timestamp=AT,
                                     before=before, after=after, since=AT, effective_at=AT)

    assert list(touched_by_monitoring(flip(watched_monitor), watching(rule))) == [
        ("", str(watched_monitor), AT, 0)]
    assert list(touched_by_monitoring(flip(watched_monitor, "down", "up"), watching(rule))) == [
        ("", str(watched_monitor), AT, 0)]
    assert list(touched_by_monitoring(flip(other_monitor), watching(rule))) == []
    # Not an outage's edge: no value a rule measures changes there.
    assert list(touched_by_monitoring(flip(watched_monitor, "up", "late"), watching(rule))) == []
    assert list(touched_by_monitoring(flip(watched_monitor, "late", "up"), watching(rule))) == []


def test_a_batch_touches_a_rule_only_with_an_event_inside_its_window_at_arrival() -> None:
    """A batch of old events (an SDK's backlog) or of events stamped ahead of Beacon's clock
    changes no value at its arrival: the rule is judged at the grid, as the preview judges it."""
    watched = watching(threshold(WORKSPACE, "checkout_failed"))
    minute = {"type": "threshold", "event": "checkout_failed", "window_seconds": 60}
    day = {**minute, "window_seconds": 86_400}

    def touch(*ages: int) -> Any:
        [found] = touched_by_telemetry(batch(WORKSPACE, *["checkout_failed"] * len(ages),
                                             ages=ages), watched)
        return found

    assert touch(90, 30, 3600)[3] == 30 * 10**6  # the newest at or before the arrival
    assert reaches(touch(90, 30), minute) and reaches(touch(90, 30), day)
    assert not reaches(touch(3600), minute) and reaches(touch(3600), day)
    assert not reaches(touch(60), minute)  # the window is (arrival - 60 s, arrival]
    assert touch(-7200)[3] is None and not reaches(touch(-7200), day)  # two hours ahead only
    assert touch(-7200, 5)[3] == 5 * 10**6
