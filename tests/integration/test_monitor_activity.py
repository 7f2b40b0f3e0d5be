"""The monitor activity read model rebuilt from history answers as the live one did, on SQLite and
PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import closing

import pytest

from domain.actor import ADMIN
from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon, bootstrap
from tests.conftest import FakeClock, settle


def activity(beacon: Beacon, workspace_id: uuid.UUID, monitor_id: uuid.UUID) -> tuple:
    queries = beacon.monitor_activity
    return (queries.beats(workspace_id, monitor_id, kind=None, before=None, limit=1000),
            queries.runs(workspace_id, monitor_id, before=None, limit=1000),
            queries.flips(workspace_id, monitor_id, before=None, limit=1000))


@pytest.fixture
def quiet_clocked_beacon(settings: Settings, clock: FakeClock) -> Iterator[Beacon]:
    """A Beacon on the test's clock whose projections only run when the test says so."""
    with closing(bootstrap(settings, clock=clock)) as beacon:
        yield beacon


def test_rebuilding_monitor_activity_answers_what_the_live_tables_did(
        quiet_clocked_beacon: Beacon, clock: FakeClock) -> None:
    quiet_beacon = quiet_clocked_beacon
    app = quiet_beacon.monitoring
    workspace_id = uuid.uuid4()
    monitor, token = app.create_monitor(workspace_id, name="etl", period_seconds=600,
                                        max_runtime_seconds=60, actor=ADMIN)
    for kind, rid, exit_status in (("start", "a", None), ("success", "a", None),
                                   ("start", "b", None), ("fail", "b", 2), ("log", None, None),
                                   ("start", None, None), ("success", None, None)):
        clock.advance(seconds=45)
        app.record_signal(token, kind, rid=rid, body=f"{kind} body",
                          **({"exit_status": exit_status} if exit_status else {}))
    clock.advance(seconds=3600)
    app.check_overdue(monitor.id)
    settle(quiet_beacon)
    live = activity(quiet_beacon, workspace_id, monitor.id)
    assert len(live[0]) == 7 and len(live[1]) == 3
    assert [f["reason"] for f in reversed(live[2])] == [
        "success", "exit_status", "success", "beat_overdue", "grace_expired"]
    assert activity(quiet_beacon, uuid.uuid4(), monitor.id) == ([], [], [])  # another workspace
    quiet_beacon.rebuild("monitor_activity")
    assert activity(quiet_beacon, workspace_id, monitor.id) == live

