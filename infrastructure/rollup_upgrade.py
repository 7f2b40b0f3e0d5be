"""Filling the hourly rollups of an installation made before they existed, once, at start-up.

The events projection keeps `rm_event_hours`, `rm_actor_hours` and `rm_session_hours` from the
moment their tables exist; the events that `rm_events` already held then are counted into them
here. The count replaces whatever the rollups hold with what `rm_events` holds, in one
transaction that holds the events projection's tracking row (no page is written meanwhile) and
records that it was done, so it is right however often it runs and runs once: a crash before the
commit leaves nothing, and the next start-up fills them.
"""

from __future__ import annotations

import logging
import time

from infrastructure.database import Database
from infrastructure.read_model_dialects import dialect_of
from infrastructure.read_models import TRACKING
from projections.hourly_rollups import ACTOR_HOURS, EVENT_HOURS, HOUR, SESSION_HOURS
from projections.telemetry import EVENTS, EventsProjection

log = logging.getLogger("beacon.projections")
UPGRADES = "rm_upgrades"  # one-time upgrades of the read models done on this database
FILLED = "hourly rollups filled from rm_events"
# The start of an event's UTC hour, floored before 1970 too (SQL's division truncates toward zero;
# `%` would need escaping for psycopg).
HOUR_OF_EVENT = (f"(CASE WHEN timestamp >= 0 THEN timestamp / {HOUR} * {HOUR} "
                 f"ELSE -(({HOUR - 1} - timestamp) / {HOUR}) * {HOUR} END)")
# Each rollup's table, and the columns of rm_events it counts by besides the workspace and hour.
COUNTED_BY = ((EVENT_HOURS, "name"), (ACTOR_HOURS, "actor_id"), (SESSION_HOURS, "session_id"))


def fill_hourly_rollups(db: Database) -> bool:
    """Count `rm_events` into the hourly rollups unless done before; whether it was done now.
    The events projection's tables must exist (its store's `create_tables`)."""
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
        for table, column in COUNTED_BY:
            cur.execute(f"DELETE FROM {table.name}")
            cur.execute(f"INSERT INTO {table.name} (workspace_id, hour, {column}, events) "
                        f"SELECT workspace_id, {HOUR_OF_EVENT}, {column}, COUNT(*) FROM {EVENTS.name} "
                        f"WHERE {column} IS NOT NULL GROUP BY workspace_id, {HOUR_OF_EVENT}, {column}")
        position = int(tracked["position"]) if tracked else 0
        cur.execute(f"INSERT INTO {UPGRADES} (name, position) VALUES (%s, %s)", [FILLED, position])
    log.info("filled the hourly rollups from %s at position %d in %.1fs", EVENTS.name, position,
             time.monotonic() - started)
    return True
