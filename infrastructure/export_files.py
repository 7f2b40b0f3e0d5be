"""Export files: a workspace's incidents or tracked events over a range, as NDJSON or CSV on disk."""

from __future__ import annotations

import csv
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from domain.export import Export
from domain.time import iso
from infrastructure.database import Database
from infrastructure.incident_queries import SqlIncidentQueries, incident_summary
from projections.incidents import INCIDENTS
from projections.model import from_micros, micros

PAGE = 1000
EXTENSIONS = {"ndjson": "ndjson", "csv": "csv"}
MEDIA_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv"}
INCIDENT_COLUMNS = ("id", "page_slug", "title", "impact", "state", "resolved", "resolved_at",
                    "created_at", "updated_at", "version", "updates")
EVENT_COLUMNS = ("event_id", "name", "category", "actor_id", "session_id", "source_app",
                 "source_version", "timestamp", "received_at", "properties")


class ExportFiles:
    """Writes export files under one directory and finds them again by name."""

    def __init__(self, directory: Path, incidents_db: Database, events_db: Database | None):
        self.directory = directory
        self.incidents_db = incidents_db
        self.events_db = events_db

    def path_of(self, file_name: str) -> Path:
        return self.directory / Path(file_name).name

    def write(self, export: Export) -> tuple[str, int, int]:
        """Write an export's file atomically; returns its name, row count and size in bytes."""
        self.directory.mkdir(parents=True, exist_ok=True)
        file_name = f"{export.id}.{EXTENSIONS[export.format]}"
        incidents = export.kind == "incidents"
        rows = self._incidents(export) if incidents else self._events(export)
        partial = self.path_of(f"{file_name}.{secrets.token_hex(4)}.partial")  # one per writer
        count = 0
        with partial.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=INCIDENT_COLUMNS if incidents
                                    else EVENT_COLUMNS, lineterminator="\n")
            if export.format == "csv":
                writer.writeheader()
            for row in rows:
                if export.format == "ndjson":
                    out.write(orjson.dumps(row).decode() + "\n")
                else:  # nested values (timelines, properties) as JSON text in their cell
                    writer.writerow({k: orjson.dumps(v).decode() if isinstance(v, list | dict)
                                     else v for k, v in row.items()})
                count += 1
        os.replace(partial, self.path_of(file_name))
        return file_name, count, self.path_of(file_name).stat().st_size

    def delete(self, file_name: str) -> None:
        self.path_of(file_name).unlink(missing_ok=True)

    def files(self) -> list[Path]:
        return sorted(self.directory.glob("*.*")) if self.directory.exists() else []

    def _incidents(self, export: Export) -> Iterator[dict[str, Any]]:
        """Incidents created in the range, oldest first, with their timelines."""
        queries = SqlIncidentQueries(self.incidents_db)
        after: tuple[int, str] = (micros(export.start) - 1, "")
        while True:
            rows = self.incidents_db.query(
                f"SELECT * FROM {INCIDENTS.name} WHERE workspace_id = %s AND created_at < %s "
                "AND (created_at > %s OR (created_at = %s AND id > %s)) "
                "ORDER BY created_at, id LIMIT %s",
                [str(export.workspace_id), micros(export.end), after[0], after[0], after[1], PAGE])
            summaries = [incident_summary(r) for r in rows]
            updates = queries.updates_for([s.id for s in summaries])
            for s in summaries:
                yield {"id": str(s.id), "page_slug": s.page_slug, "title": s.title,
                       "impact": s.impact, "state": s.state, "resolved": s.resolved,
                       "resolved_at": iso(s.resolved_at), "created_at": iso(s.created_at),
                       "updated_at": iso(s.updated_at), "version": s.version,
                       "updates": [{"id": u["id"], "message": u["message"],
                                    "created_at": iso(u["created_at"])} for u in updates[s.id]]}
            if len(rows) < PAGE:
                return
            after = (int(rows[-1]["created_at"]), rows[-1]["id"])

    def _events(self, export: Export) -> Iterator[dict[str, Any]]:
        """Tracked events whose timestamp is in the range, oldest first (the telemetry read model)."""
        if self.events_db is None:
            raise RuntimeError("this installation has no telemetry read model to export")
        db = self.events_db
        after: tuple[int, str] = (micros(export.start) - 1, "")
        while True:
            rows = db.query(
                f"SELECT {', '.join(EVENT_COLUMNS)} FROM rm_events WHERE workspace_id = %s "
                "AND timestamp < %s AND (timestamp > %s OR (timestamp = %s AND event_id > %s)) "
                "ORDER BY timestamp, event_id LIMIT %s",
                [str(export.workspace_id), micros(export.end), after[0], after[0], after[1], PAGE])
            for row in rows:
                yield {**row, "timestamp": iso(from_micros(row["timestamp"])),
                       "received_at": iso(from_micros(row["received_at"])),
                       "properties": db.load_json(row["properties"])}
            if len(rows) < PAGE:
                return
            after = (int(rows[-1]["timestamp"]), rows[-1]["event_id"])
