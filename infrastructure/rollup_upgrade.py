"""Filling the rollups (and the enrichment's reach) of an installation made before they existed,
once each, at start-up.

The events projection keeps `rm_event_hours`, `rm_actor_hours` and `rm_session_hours` from the
moment their tables exist; the events that `rm_events` already held then are counted into them
here. Likewise the event_seconds projection's `rm_event_minutes`, from its `rm_event_seconds`. A
fill replaces whatever the rollups hold with what their source holds, in one transaction that
holds the source projection's tracking row (no page is written meanwhile) and records that it was
done, so it is right however often it runs and runs once: a crash before the commit leaves
nothing, and the next start-up fills them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from infrastructure.database import Database
from infrastructure.read_model_dialects import dialect_of
from infrastructure.read_models import TRACKING
from projections.enrichment import ENRICHED, REACH, EnrichedEventsProjection
from projections.event_seconds import EVENT_MINUTES, EVENT_SECONDS, MINUTE, EventSecondsProjection
from projections.hourly_rollups import ACTOR_HOURS, EVENT_HOURS, HOUR, SESSION_HOURS
from projections.telemetry import EVENTS, EventsProjection

log = logging.getLogger("beacon.projections")
UPGRADES = "rm_upgrades"  # one-time upgrades of the read models done on this database
FILLED = "hourly rollups filled from rm_events"
MINUTES_FILLED = "minute counts filled from rm_event_seconds"
REACH_FILLED = "enrichment reach filled from rm_enrichment"
# Each rollup's table, and the columns of rm_events it counts by besides the workspace and hour.
COUNTED_BY = ((EVENT_HOURS, "name"), (ACTOR_HOURS, "actor_id"), (SESSION_HOURS, "session_id"))


def floored(column: str, unit: int) -> str:
    """The start of the `unit` (µs) holding `column`, floored before 1970 too (SQL's division
    truncates toward zero; `%` would need escaping for psycopg)."""
    return (f"(CASE WHEN {column} >= 0 THEN {column} / {unit} * {unit} "
            f"ELSE -(({unit - 1} - {column}) / {unit}) * {unit} END)")


def fill_hourly_rollups(db: Database) -> bool:
    """Count `rm_events` into the hourly rollups unless done before; whether it was done now.
    The events projection's tables must exist (its store's `create_tables`)."""
    hour = floored("timestamp", HOUR)

    def fill(cur: Any) -> None:
        for table, column in COUNTED_BY:
            cur.execute(f"DELETE FROM {table.name}")
            cur.execute(f"INSERT INTO {table.name} (workspace_id, hour, {column}, events) "
                        f"SELECT workspace_id, {hour}, {column}, COUNT(*) FROM {EVENTS.name} "
                        f"WHERE {column} IS NOT NULL GROUP BY workspace_id, {hour}, {column}")

    return _once(db, FILLED, EventsProjection.name, fill)


def fill_event_minutes(db: Database) -> bool:
    """Sum `rm_event_seconds` into `rm_event_minutes` unless done before; whether it was done
    now. The event_seconds projection's tables must exist."""
    minute = floored("second", MINUTE)

    def fill(cur: Any) -> None:
        cur.execute(f"DELETE FROM {EVENT_MINUTES.name}")
        cur.execute(f"INSERT INTO {EVENT_MINUTES.name} (workspace_id, name, minute, events) "
                    f"SELECT workspace_id, name, {minute}, SUM(events) FROM {EVENT_SECONDS.name} "
                    f"GROUP BY workspace_id, name, {minute}")

    return _once(db, MINUTES_FILLED, EventSecondsProjection.name, fill)


def fill_enrichment_reach(db: Database) -> bool:
    """Set how far the sources are enriched (`rm_enrichment_reach`) from the rows `rm_enrichment`
    holds, unless done before; whether it was done now. The enriched_events projection's tables
    must exist."""

    def fill(cur: Any) -> None:
        cur.execute(f"DELETE FROM {REACH.name}")
        cur.execute(f"INSERT INTO {REACH.name} (log, source_position) SELECT 'Telemetry', reach "
                    f"FROM (SELECT MAX(position) AS reach FROM {ENRICHED.name}) r "
                    "WHERE reach IS NOT NULL")

    return _once(db, REACH_FILLED, EnrichedEventsProjection.name, fill)


def _once(db: Database, upgrade: str, projection: str, fill: Callable[[Any], None]) -> bool:
    """Run `fill` in a transaction holding `projection`'s tracking row, unless `upgrade` is
    recorded as done; record it. Whether it ran."""
    with db.transaction() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {UPGRADES} "
                    "(name TEXT PRIMARY KEY, position BIGINT NOT NULL)")
    started = time.monotonic()
    with db.transaction() as cur:
        cur.execute(f"SELECT position FROM {TRACKING} WHERE name = %s{dialect_of(db).lock_row}",
                    [projection])
        tracked = cur.fetchone()
        cur.execute(f"SELECT 1 AS done FROM {UPGRADES} WHERE name = %s", [upgrade])
        if cur.fetchone() is not None:
            return False
        fill(cur)
        position = int(tracked["position"]) if tracked else 0
        cur.execute(f"INSERT INTO {UPGRADES} (name, position) VALUES (%s, %s)", [upgrade, position])
    log.info("%s at position %d in %.1fs", upgrade, position, time.monotonic() - started)
    return True
