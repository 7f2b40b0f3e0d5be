"""A busy monitor is snapshotted, and a process that never saw it loads the same state."""

from __future__ import annotations

import uuid

from domain.actor import ADMIN
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
    second = bootstrap(settings, clock=clock)
    try:
        loaded = second.monitoring.get_monitor(monitor.workspace_id, monitor.id)
        assert loaded.version == seen.version and loaded.__dict__ == seen.__dict__
        assert loaded.learned_seconds == 60 and loaded.too_frequent_beats > 0
    finally:
        second.close()
