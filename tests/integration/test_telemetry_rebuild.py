"""Telemetry read models rebuilt from history equal the ones built live (bulk paths included)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from domain.tracked_event import check_event
from infrastructure.projection_runner import ProjectionRunner
from infrastructure.read_models import ReadModelStore
from infrastructure.rebuilder import Rebuilder
from interfaces.bootstrap import Beacon
from projections.hourly_rollups import ROLLUPS
from projections.model import InsertRecords, Op
from projections.telemetry import (
    ACTIVITY,
    EVENTS,
    EXCEPTIONS,
    RECORD_FIELDS,
    SESSIONS,
    EventsProjection,
)

START = datetime(2026, 3, 1, tzinfo=UTC)


def load(beacon: Beacon) -> uuid.UUID:
    """Batches big enough for COPY, sessions started and ended, exceptions, a retried batch."""
    workspace = uuid.uuid4()
    sessions = [str(uuid.uuid4()) for _ in range(5)]
    for n, session_id in enumerate(sessions):
        beacon.telemetry.start_session(workspace, session_id=session_id, actor_id=f"a{n}",
                                       source_app="App", source_version="1", started_at=START)
    now = datetime.now(UTC)
    batches = []
    for b in range(3):
        batch = [check_event({
            "event_id": str(uuid.uuid4()), "category": "c", "name": f"e{i % 7}",
            "timestamp": (START + timedelta(minutes=b * 300 + i)).isoformat(),
            "actor_id": f"a{i % 40}", "session_id": sessions[i % 5] if i % 3 else None,
            "properties": None if i % 11 == 0 else {
                "plan": "pro" if i % 2 else "free", "n": i, "nested": {"x": [1, 2]}, "t": "a\tb\\"},
        }, now) for i in range(300)]
        batches.append(batch)
        beacon.telemetry.ingest(workspace, batch, limit=10_000)
    beacon.telemetry.ingest(workspace, batches[0], limit=10_000)  # a retry: all duplicates
    beacon.telemetry.end_session(workspace, session_id=sessions[0], ended_at=START + timedelta(hours=9),
                                 end_reason="closed")
    for n in range(4):
        beacon.telemetry.report_exception(workspace, {
            "exception_id": f"x{n}", "exception_type": "ValueError", "severity": "fatal",
            "occurred_at": (START + timedelta(minutes=n)).isoformat(), "actor_id": "a1",
            "source_app": "App", "source_version": "1", "message": f"bad {n}",
            "stack_trace": f'File "a.py", line {n}', "breadcrumbs": [{"n": n}], "session_id": None,
            "environment_context": None}, limit=10_000)
    return workspace


def snapshot(beacon: Beacon) -> dict[str, list[dict]]:
    db = beacon.databases["Telemetry"]
    return {t.name: db.query(f"SELECT * FROM {t.name} ORDER BY {', '.join(t.primary_key)}")
            for t in (EVENTS, *ROLLUPS, SESSIONS, ACTIVITY, EXCEPTIONS)}


def test_rebuilt_telemetry_read_models_equal_the_live_ones(quiet_beacon: Beacon) -> None:
    workspace = load(quiet_beacon)
    for name in ("events", "sessions", "exceptions"):
        quiet_beacon.runner(name).catch_up()
    live = snapshot(quiet_beacon)
    assert len(live[EVENTS.name]) == 900 and len(live[EXCEPTIONS.name]) == 4
    assert quiet_beacon.telemetry_queries.count_events(str(workspace)) == 900
    ended = [s for s in live[SESSIONS.name] if s["end_reason"] == "closed"]
    assert len(ended) == 1
    for name in ("events", "sessions", "exceptions"):
        quiet_beacon.rebuild(name)
        assert quiet_beacon.runner(name).status().lag == 0
    assert snapshot(quiet_beacon) == live


class TwiceInsertedEvents(EventsProjection):
    """Breaks the promise of `keys_once`: every batch's rows are inserted twice, the second time
    under another name, so the later write is the one that must be kept."""

    name = "events_twice"
    tables = (replace(EVENTS, name="rm_events_twice"),)

    def ops(self, event: Any) -> Iterable[Op]:
        for op in super().ops(event):
            if not isinstance(op, InsertRecords):
                continue  # the rollup's counts: this test is about rm_events' keys
            yield replace(op, table="rm_events_twice")
            renamed = [{**record, "name": "again"} for record in orjson.loads(op.records)]
            yield replace(op, table="rm_events_twice", records=orjson.dumps(renamed).decode())


def test_a_rebuild_whose_keys_repeat_starts_over_and_still_equals_the_live_model(
        quiet_beacon: Beacon, backend: str, caplog: pytest.LogCaptureFixture) -> None:
    load(quiet_beacon)
    projection = TwiceInsertedEvents()
    db = quiet_beacon.databases["Telemetry"]
    store = ReadModelStore(db, projection)
    store.create_tables()
    runner = ProjectionRunner(projection, quiet_beacon.telemetry, store)
    runner.catch_up()
    rows = "SELECT * FROM rm_events_twice ORDER BY workspace_id, event_id"
    live = db.query(rows)
    assert len(live) == 900 and {row["name"] for row in live} == {"again"}
    Rebuilder(runner).run()
    assert db.query(rows) == live
    assert ("starting over" in caplog.text) == (backend == "postgres")  # only it defers keys


@pytest.mark.parametrize("size", [3, 300])  # executemany, and COPY with its fallback to upserts
def test_records_written_again_replace_their_rows_without_duplicates(quiet_beacon: Beacon,
                                                                     size: int) -> None:
    projection = EventsProjection()
    store = ReadModelStore(quiet_beacon.databases["Telemetry"], projection)
    store.create_tables()
    now = datetime.now(UTC)
    events = [check_event({"event_id": str(uuid.uuid4()), "category": "c", "name": "n",
                           "timestamp": (START + timedelta(seconds=i)).isoformat(),
                           "actor_id": "a", "properties": {"i": i}}, now) for i in range(size)]
    constants = {"workspace_id": str(uuid.uuid4()), "received_at": 1}
    first = InsertRecords(EVENTS.name, orjson.dumps(events).decode(), fields=RECORD_FIELDS,
                          constants=constants)
    store.write_alone(store.plan([first]))
    again = replace(first, records=orjson.dumps(
        [{**orjson.loads(orjson.dumps(e)), "category": "again"} for e in events]).decode(),
        constants={**constants, "received_at": 2})
    store.write_alone(store.plan([again]))
    rows = quiet_beacon.databases["Telemetry"].query(
        "SELECT category, received_at, properties FROM rm_events ORDER BY timestamp")
    assert len(rows) == size
    assert {(r["category"], r["received_at"]) for r in rows} == {("again", 2)}
    stored = [orjson.loads(p) if isinstance(p, str) else p for p in (r["properties"] for r in rows)]
    assert stored == [{"i": i} for i in range(size)]  # SQLite hands JSON back as text
