"""Uptime arithmetic: status periods, maintenance windows, intervals and weights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from projections.components import StatusChange
from projections.maintenance import Window
from projections.monitors import Outage
from projections.uptime import boundaries, component_spans, merged, monitor_spans, uptime

T0 = datetime(2026, 4, 6, 12, 0, tzinfo=UTC)  # a Monday
M = timedelta(minutes=1)


def test_a_change_recorded_late_but_effective_earlier_takes_its_place_in_time() -> None:
    changes = [StatusChange(T0, 1, "operational"), StatusChange(T0 + 30 * M, 2, "degraded_performance"),
               StatusChange(T0 + 10 * M, 3, "major_outage")]  # a monitor noticed late
    spans = component_spans(changes, until=T0 + 60 * M)
    assert [(s.started_at, s.ended_at, s.status) for s in spans] == [
        (T0, T0 + 10 * M, "operational"), (T0 + 10 * M, T0 + 30 * M, "major_outage"),
        (T0 + 30 * M, T0 + 60 * M, "degraded_performance")]


def test_overlapping_windows_count_once_and_an_open_one_runs_until_now() -> None:
    windows = [Window(T0, T0 + 20 * M), Window(T0 + 10 * M, T0 + 30 * M),
               Window(T0 + 50 * M, None)]
    assert merged(windows, T0 + 60 * M) == [(T0, T0 + 30 * M), (T0 + 50 * M, T0 + 60 * M)]


def test_a_monitor_is_down_during_its_outages_and_up_otherwise() -> None:
    spans = monitor_spans(T0, [Outage(T0 + 10 * M, T0 + 20 * M), Outage(T0 + 50 * M, None)],
                          T0 + 60 * M)
    assert [(s.status, (s.ended_at - s.started_at) // M) for s in spans] == [
        ("operational", 10), ("major_outage", 10), ("operational", 30), ("major_outage", 10)]


def test_under_maintenance_by_hand_counts_as_maintenance_and_is_left_out() -> None:
    spans = component_spans([StatusChange(T0, 1, "under_maintenance"),
                             StatusChange(T0 + 30 * M, 2, "major_outage")], T0 + 60 * M)
    body = uptime(spans, [], T0, T0 + 60 * M, None, {}, T0 + 60 * M)
    assert body["maintenance_seconds"] == 1800 and body["major_outage_seconds"] == 1800
    assert body["uptime_percent"] == 0.0 and "intervals" not in body


def test_nothing_observed_has_no_percentage() -> None:
    body = uptime([], [], T0, T0 + 60 * M, "hour", {}, T0)
    assert body["uptime_percent"] is None and body["intervals"][0]["observed_seconds"] == 0


def test_intervals_start_at_utc_edges_and_weeks_on_monday() -> None:
    lo = T0 + 90 * M
    assert [a.hour for a, _ in boundaries(lo, lo + 3 * 60 * M, "hour")] == [13, 14, 15, 16]
    days = list(boundaries(lo, lo + timedelta(days=2), "day"))
    assert days[0] == (lo, datetime(2026, 4, 7, tzinfo=UTC)) and len(days) == 3
    weeks = list(boundaries(T0 + timedelta(days=3), T0 + timedelta(days=10), "week"))
    assert weeks[1][0] == datetime(2026, 4, 13, tzinfo=UTC)
