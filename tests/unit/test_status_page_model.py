"""What the public page shows: overall status from active incidents, one uptime segment per day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from projections.monitors import Outage
from projections.status_page import overall_status, uptime_days

NOW = datetime(2026, 4, 4, 12, 0, tzinfo=UTC)


def test_the_worst_active_impact_sets_the_overall_status() -> None:
    assert overall_status([]) == "operational"
    assert overall_status(["none"]) == "operational"
    assert overall_status(["none", "minor"]) == "degraded"
    assert overall_status(["minor", "critical"]) == "major_outage"


def test_ninety_days_oldest_first_with_no_data_before_the_monitor_existed() -> None:
    days, percent = uptime_days(NOW - timedelta(days=2, hours=3), [], NOW)
    assert len(days) == 90 and days[-1].day == NOW.date()
    assert [d.state for d in days[-4:]] == ["none", "up", "up", "up"]
    assert percent == 100.0


def test_a_day_with_any_downtime_is_down_and_an_open_outage_runs_until_now() -> None:
    created = NOW - timedelta(days=10)
    outages = [Outage(NOW - timedelta(days=3, hours=1), NOW - timedelta(days=3)),
               Outage(NOW - timedelta(minutes=30), None)]
    days, percent = uptime_days(created, outages, NOW)
    states = {d.day: d for d in days}
    assert states[(NOW - timedelta(days=3)).date()].state == "down"
    assert states[(NOW - timedelta(days=3)).date()].down_seconds == 3600
    assert states[NOW.date()].state == "down" and states[NOW.date()].down_seconds == 1800
    assert states[(NOW - timedelta(days=1)).date()].state == "up"
    assert percent == round(100 * (1 - 5400 / (10 * 86400)), 2)
