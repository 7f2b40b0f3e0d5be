"""Sessions: started once (idempotently), ended once, or timed out when they go quiet."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import ConflictError, ValidationError
from domain.ids import namespaced_id

MAX_REASON = 128


def session_key(workspace_id: UUID, session_id: str) -> UUID:
    return namespaced_id(workspace_id, "session", session_id)


class Session(Aggregate):
    def __init__(self, workspace_id: UUID, session_id: str, actor_id: str, source_app: str,
                 source_version: str, started_at: datetime):
        self.workspace_id = workspace_id
        self.session_id = session_id
        self.actor_id = actor_id
        self.source_app = source_app
        self.source_version = source_version
        self.started_at = started_at
        self.ended_at: datetime | None = None
        self.end_reason: str | None = None

    class Started(Aggregate.Created):
        workspace_id: UUID
        session_id: str
        actor_id: str
        source_app: str
        source_version: str
        started_at: datetime

    @classmethod
    def start(cls, *, workspace_id: UUID, session_id: str, actor_id: str, source_app: str,
              source_version: str, started_at: datetime, at: datetime) -> Session:
        return cls._create(cls.Started, id=session_key(workspace_id, session_id), timestamp=at,
                           workspace_id=workspace_id, session_id=session_id, actor_id=actor_id,
                           source_app=source_app, source_version=source_version,
                           started_at=started_at)

    class Ended(Aggregate.Event):
        workspace_id: UUID
        session_id: str
        ended_at: datetime
        end_reason: str

        def apply(self, aggregate: Session) -> None:
            aggregate.ended_at = self.ended_at
            aggregate.end_reason = self.end_reason

    def end(self, *, ended_at: datetime, end_reason: str, at: datetime) -> None:
        """End once; the same end again is a no-op, a different one a conflict."""
        if not end_reason or len(end_reason) > MAX_REASON:
            raise ValidationError(f"end_reason must be 1-{MAX_REASON} characters",
                                  details=[{"field": "end_reason", "message": "1-128 characters"}])
        if ended_at < self.started_at:
            raise ValidationError("ended_at is before started_at",
                                  details=[{"field": "ended_at", "message": "before started_at"}])
        if self.ended_at is not None:
            if (self.ended_at, self.end_reason) != (ended_at, end_reason):
                raise ConflictError("the session already ended differently",
                                    details=[{"field": "ended_at", "message": "already ended"}])
            return
        self.trigger_event(self.Ended, workspace_id=self.workspace_id, session_id=self.session_id,
                           ended_at=ended_at, end_reason=end_reason, timestamp=at)

    @property
    def duration_seconds(self) -> float | None:
        return (self.ended_at - self.started_at).total_seconds() if self.ended_at else None

    def describe(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "actor_id": self.actor_id,
                "source_app": self.source_app, "source_version": self.source_version,
                "started_at": self.started_at, "ended_at": self.ended_at,
                "end_reason": self.end_reason, "duration_seconds": self.duration_seconds}
