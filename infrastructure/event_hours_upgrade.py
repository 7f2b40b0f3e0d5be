"""Filling the hourly rollup of an installation made before it existed, once, at start-up.

The events projection keeps `rm_event_hours` from the moment its table exists; the events that
`rm_events` already held then are counted into it here. The count replaces whatever the rollup
holds with what `rm_events` holds, in one transaction that holds the events projection's tracking
row (no page is written meanwhile) and records that it was done, so it is right however often it
runs and runs once: a crash before the commit leaves nothing, and the next start-up fills it.
"""

from __future__ import annotations

import logging
import time

from infrastructure.database import Database
from infrastructure.read_model_dialects import dialect_of
from infrastructure.read_models import TRACKING
from projections.event_hours import EVENT_HOURS, HOUR
from projections.telemetry import EVENTS, EventsProjection

log = logging.getLogger("beacon.projections")
UPGRADES = "rm_upgrades"  # one-time upgrades of the read models done on this database
FILLED = "rm_event_hours filled from rm_events"
# The start of an event's UTC hour, floored before 1970 too (SQL's division truncates toward zero;
# `%` would need escaping for psycopg).
HOUR_OF_EVENT = (f"(CASE WHEN timestamp >= 0 THEN timestamp / {HOUR} * {HOUR} "
                 f"ELSE -(({HOUR - 1} - timestamp) / {HOUR}) * {HOUR} END)")


def fill_event_hours(db: Database) -> bool:
    """Count `rm_events` into `rm_event_hours` unless done before; whether it was done now. The
    events projection's tables must exist (its store's `create_tables`)."""
    with db.transaction() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {UPGRADES} "
                    "(name TEXT PRIMARY KEY, position BIGINT NOT NULL)")
    started = time.monotonic()
    with db.transaction() as cur:
        cur.execute(f"SELECT position FROM {TRACKING} WHERE name = %s{dialect_of(db).lock_row}",
                    [EventsProjection.name])
        tracked = cur.fetchone()
        cur.execute(f"SELECT 1 AS done FROM {UPGRADES} WHERE name = %s", [FILLED])
        if cur.fetchone() is not None:
            return False
        cur.execute(f"DELETE FROM {EVENT_HOURS.name}")
        cur.execute(f"INSERT INTO {EVENT_HOURS.name} (workspace_id, name, hour, events) "
                    f"SELECT workspace_id, name, {HOUR_OF_EVENT}, COUNT(*) FROM {EVENTS.name} "
                    f"GROUP BY workspace_id, name, {HOUR_OF_EVENT}")
        position = int(tracked["position"]) if tracked else 0
        cur.execute(f"INSERT INTO {UPGRADES} (name, position) VALUES (%s, %s)", [FILLED, position])
    log.info("filled %s from %s at position %d in %.1fs", EVENT_HOURS.name, EVENTS.name, position,
             time.monotonic() - started)
    return True
