"""Exports: a workspace's incidents or events over a time range, written to a file that expires."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.errors import ExportExpiredError, ExportNotReadyError, ValidationError
from domain.incident import check_choice

KINDS = ("events", "incidents")
FORMATS = ("ndjson", "csv")
MAX_RANGE = timedelta(days=366)


class Export(Aggregate):
    """One export request: pending until a worker writes its file, then completed (or failed)."""

    def __init__(self, workspace_id: UUID, kind: str, format: str, start: datetime,
                 end: datetime, actor: Actor):
        self.workspace_id = workspace_id
        self.kind = kind
        self.format = format
        self.start = start
        self.end = end
        self.status = "pending"
        self.file_name: str | None = None
        self.rows: int | None = None
        self.size_bytes: int | None = None
        self.completed_at: datetime | None = None
        self.expires_at: datetime | None = None
        self.error: str | None = None

    class Requested(Aggregate.Created):
        workspace_id: UUID
        kind: str
        format: str
        start: datetime
        end: datetime
        actor: Actor

    @classmethod
    def request(cls, *, export_id: UUID, workspace_id: UUID, kind: str, format: str,
                start: datetime, end: datetime, actor: Actor, at: datetime) -> Export:
        check_choice("kind", kind, KINDS)
        check_choice("format", format, FORMATS)
        if not start < end or end - start > MAX_RANGE:
            raise ValidationError("from must be before to, at most 366 days apart",
                                  details=[{"field": "to", "message": "after from, ≤ 366 days"}])
        return cls._create(cls.Requested, id=export_id, timestamp=at, workspace_id=workspace_id,
                           kind=kind, format=format, start=start, end=end, actor=actor)

    class Completed(Aggregate.Event):
        file_name: str
        rows: int
        size_bytes: int
        expires_at: datetime

        def apply(self, aggregate: Export) -> None:
            aggregate.status = "completed"
            aggregate.file_name, aggregate.rows = self.file_name, self.rows
            aggregate.size_bytes, aggregate.expires_at = self.size_bytes, self.expires_at
            aggregate.completed_at = self.timestamp

    def complete(self, *, file_name: str, rows: int, size_bytes: int, at: datetime,
                 ttl: timedelta) -> None:
        if self.status == "pending":
            self.trigger_event(self.Completed, timestamp=at, file_name=file_name, rows=rows,
                               size_bytes=size_bytes, expires_at=at + ttl)

    class Failed(Aggregate.Event):
        reason: str

        def apply(self, aggregate: Export) -> None:
            aggregate.status = "failed"
            aggregate.error = self.reason

    def fail(self, reason: str, *, at: datetime) -> None:
        if self.status == "pending":
            self.trigger_event(self.Failed, timestamp=at, reason=reason[:1000])

    def status_at(self, now: datetime) -> str:
        """pending, completed, failed, or expired once a completed file's time is up."""
        if self.status == "completed" and self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return self.status

    def check_downloadable(self, now: datetime) -> None:
        status = self.status_at(now)
        if status == "expired":
            raise ExportExpiredError("export has expired; request a new one")
        if status != "completed":
            raise ExportNotReadyError(f"export is {status}, not completed",
                                      details=[{"field": "status", "message": status}])

    def describe(self, now: datetime) -> dict[str, Any]:
        return {"id": str(self.id), "kind": self.kind, "format": self.format,
                "from": self.start, "to": self.end, "status": self.status_at(now),
                "rows": self.rows, "size_bytes": self.size_bytes, "error": self.error,
                "created_at": self.created_on, "completed_at": self.completed_at,
                "expires_at": self.expires_at}
