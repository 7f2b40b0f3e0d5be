"""A busy monitor is snapshotted, and a process that never saw it loads the same state."""

from __future__ import annotations

import uuid

from domain.actor import ADMIN
from domain.monitor import Monitor
from infrastructure.settings import Settings
from interfaces.bootstrap import bootstrap
from tests.conftest import FakeClock


def test_a_monitor_with_many_beats_loads_the_same_from_its_snapshot(settings: Settings,
                                                                    clock: FakeClock) -> None:
    first = bootstrap(settings, clock=clock)
    try:
        monitor, token = first.monitoring.create_monitor(
            uuid.uuid4(), name="busy", period_seconds=None, grace_seconds=None, page_slug=None,
            actor=ADMIN)
        for n in range(230):
            clock.advance(seconds=60 if n % 7 else 5)
            first.monitoring.record_beat(token, value=n)
        seen = first.monitoring.get_monitor(monitor.workspace_id, monitor.id)
        assert first.monitoring.snapshots is not None
        assert list(first.monitoring.snapshots.get(monitor.id))  # taken at version 200
    finally:
        first.close()
    loaded = loaded_afresh(settings, clock, seen)
    assert loaded.learned_seconds == 60 and loaded.too_frequent_beats > 0


def test_a_monitor_with_open_runs_and_a_schedule_loads_the_same_from_its_snapshot(
        settings: Settings, clock: FakeClock) -> None:
    first = bootstrap(settings, clock=clock)
    try:
        monitor, token = first.monitoring.create_monitor(
            uuid.uuid4(), name="busy", schedule={"cron": "*/5 * * * *", "tz": "Europe/Paris"},
            max_runtime_seconds=3600, actor=ADMIN)
        for n in range(210):
            clock.advance(seconds=60)
            first.monitoring.record_signal(token, "start" if n % 3 else "success",
                                           rid=f"run-{n % 7}")
        seen = first.monitoring.get_monitor(monitor.workspace_id, monitor.id)
        assert first.monitoring.snapshots is not None
        assert seen.open_runs and list(first.monitoring.snapshots.get(monitor.id))
    finally:
        first.close()
    assert loaded_afresh(settings, clock, seen).open_runs == seen.open_runs


def loaded_afresh(settings: Settings, clock: FakeClock, seen: Monitor) -> Monitor:
    """The monitor as a process that never saw it loads it; the same as `seen`, to the letter."""
    second = bootstrap(settings, clock=clock)
    try:
        loaded = second.monitoring.get_monitor(seen.workspace_id, seen.id)
        assert loaded.version == seen.version and loaded.__dict__ == seen.__dict__
        return loaded
    finally:
        second.close()
