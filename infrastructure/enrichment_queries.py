"""Reading one event (or exception report) with its recorded enrichment, on either backend."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson

from infrastructure.database import Database, Row
from projections.enrichment import DIMENSIONS, ENRICHED, REACH
from projections.telemetry import EVENTS, EXCEPTIONS

ENRICHED_COLUMNS = ("content_hash", *DIMENSIONS.values(), "derived_with", "position")


def enrichment_join(alias: str, id_column: str, workspace_column: str, kind: str) -> str:
    """`LEFT JOIN rm_enrichment <alias>` onto a row's id and workspace (same-typed columns)."""
    return (f"LEFT JOIN {ENRICHED.name} {alias} ON {alias}.event_id = {id_column} "
            f"AND {alias}.workspace_id = {workspace_column} AND {alias}.kind = '{kind}'")


def enrichment_of(row: Row, prefix: str = "en_") -> dict[str, Any] | None:
    """The enrichment columns of a joined row as one object (None: not derived yet)."""
    if row.get(prefix + "content_hash") is None:
        return None
    found = {column: row.pop(prefix + column) for column in ENRICHED_COLUMNS}
    found["derived_with"] = orjson.loads(found["derived_with"])  # a text column on both backends
    return found


def enriched_columns(alias: str, prefix: str = "en_") -> str:
    return ", ".join(f"{alias}.{column} AS {prefix}{column}" for column in ENRICHED_COLUMNS)


class SqlEnrichedQueries:
    def __init__(self, db: Database):
        self.db = db

    def reach(self) -> int:
        """The Telemetry log's last source whose enrichment the read models hold, with every
        source before it (0: none yet)."""
        rows = self.db.query(f"SELECT source_position FROM {REACH.name} WHERE log = 'Telemetry'")
        return int(rows[0]["source_position"]) if rows else 0

    def event(self, workspace_id: UUID, event_id: str) -> Row | None:
        """One stored event with its enrichment, or None if this workspace has none by that id."""
        if "\x00" in event_id:  # no stored id holds one (PostgreSQL text cannot): none by it
            return None
        rows = self.db.query(
            f"SELECT ev.event_id, ev.name, ev.category, ev.actor_id, ev.session_id, ev.source_app, "
            f"ev.source_version, ev.timestamp, ev.received_at, ev.properties, "
            f"{enriched_columns('en')} FROM {EVENTS.name} ev "
            f"{enrichment_join('en', 'ev.event_id', 'ev.workspace_id', 'events')} "
            "WHERE ev.event_id = %s AND ev.workspace_id = %s", [event_id, str(workspace_id)])
        row = _with_enrichment(rows)
        if row is not None:
            row["properties"] = self.db.load_json(row["properties"])
        return row

    def exception(self, workspace_id: UUID, exception_id: str) -> Row | None:
        """One exception report with its enrichment."""
        if "\x00" in exception_id:
            return None
        # rm_exceptions keeps its workspace as text: compare the enrichment's as text too.
        workspace = "CAST(en.workspace_id AS TEXT)"
        rows = self.db.query(
            f"SELECT x.exception_id, x.exception_type, x.fingerprint, x.severity, x.message, "
            f"x.actor_id, x.session_id, x.source_app, x.source_version, x.occurred_at, "
            f"x.received_at, {enriched_columns('en')} FROM {EXCEPTIONS.name} x "
            f"LEFT JOIN {ENRICHED.name} en ON en.event_id = x.exception_id "
            f"AND {workspace} = x.workspace_id AND en.kind = 'exception' "
            "WHERE x.exception_id = %s AND x.workspace_id = %s", [exception_id, str(workspace_id)])
        return _with_enrichment(rows)


def _with_enrichment(rows: list[Row]) -> Row | None:
    """The first row, its joined enrichment columns gathered into `enrichment`."""
    if not rows:
        return None
    row = dict(rows[0])
    row["enrichment"] = enrichment_of(row)
    for column in ENRICHED_COLUMNS:
        row.pop("en_" + column, None)
    return row
