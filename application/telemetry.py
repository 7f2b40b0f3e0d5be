"""The telemetry context: exact quotas, accepted batches, sessions and exception reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import JSONTranscoder, RecordConflictError
from eventsourcing.utils import EnvType
from uuid6 import uuid7

from application.admission import Admission, Request, quota_head
from application.base import BeaconApplication, Clock, retry_on_conflict, system_clock
from application.ledger import EventLedger
from application.outcome import ACCEPTED, DUPLICATE, INVALID, LIMIT_EXCEEDED, Outcome, sort_out
from application.stored_batches import AheadMapper, JsonTextAsJson, batch_accepted
from domain.errors import QuotaExceededError, SessionNotFoundError
from domain.exception_report import ExceptionReport, report_key
from domain.quota import TenantQuota, period_of, quota_id, resets_at
from domain.session import Session, session_key
from domain.tracked_event import TrackedEvent

# The statuses and the outcome are the admission's; the interfaces know them from here.
__all__ = ["ACCEPTED", "DUPLICATE", "INVALID", "LIMIT_EXCEEDED", "Outcome",
           "TelemetryApplication", "new_event_id"]


class TelemetryApplication(BeaconApplication):
    """Its recorder keeps the dedupe ledger (the environment names a recorder that does:
    infrastructure/settings.py), and the ledger's locks are the workspace locks its other
    writers take too."""

    name = "Telemetry"
    mapper: AheadMapper

    def __init__(self, env: EnvType | None = None, clock: Clock = system_clock) -> None:
        super().__init__(env, clock)
        if not isinstance(self.recorder, EventLedger):
            raise TypeError(f"{type(self.recorder).__name__} keeps no dedupe ledger")
        self.ledger: EventLedger = self.recorder
        self.shared_locks = self.ledger.workspace_locks
        self.admission = Admission(self.name, self.ledger, self.mapper, self.repository,
                                   self.clock, quota=self.quota, save=self.save,
                                   serialised=self.serialised)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(JsonTextAsJson())  # a batch's events, stored as the JSON they are

    def construct_mapper(self) -> AheadMapper:
        return cast(AheadMapper, self.factory.mapper(transcoder=self.construct_transcoder(),
                                                     mapper_class=AheadMapper))

    def quota(self, workspace_id: UUID, at: datetime | None = None) -> TenantQuota:
        period = period_of(at or self.clock())
        try:
            quota: TenantQuota = self.repository.get(quota_id(workspace_id, period))
        except AggregateNotFoundError:  # nothing counted yet this month
            quota = TenantQuota.open(workspace_id, period)
        return quota

    def usage(self, workspace_id: UUID, limit: int) -> dict[str, Any]:
        quota = self.quota(workspace_id)
        return {"period": quota.period, "limit": limit, "used": quota.used,
                "remaining": quota.remaining(limit), "refused": quota.refused}

    def ingest(self, workspace_id: UUID, checked: list[TrackedEvent | list[dict[str, str]]],
               *, limit: int, partial: bool = True,
               client: dict[str, Any] | None = None) -> Outcome:
        """Admit a request's valid, new events up to the quota, in one transaction with the
        ledger (application/admission.py)."""
        sorted_out, fresh = sort_out(checked)
        if not fresh:
            return sorted_out
        events = cast(list[TrackedEvent], checked if len(fresh) == len(checked) else
                      [checked[i] for i in fresh])
        received = self.clock()
        request = Request(workspace_id, sorted_out, fresh, events, received,
                          batch_accepted(workspace_id, events, received, client), client)
        return self.admission.admit(request, limit=limit, partial=partial)

    def report_exception(self, workspace_id: UUID, report: dict[str, Any], *, limit: int,
                         client: dict[str, Any] | None = None) -> tuple[ExceptionReport, bool]:
        """Record a report once (it counts against the quota); a repeat returns the first answer."""
        with self.serialised(workspace_id):
            return self._report_exception(workspace_id, report, limit=limit, client=client)

    @retry_on_conflict
    def _report_exception(self, workspace_id: UUID, report: dict[str, Any], *, limit: int,
                          client: dict[str, Any] | None) -> tuple[ExceptionReport, bool]:
        key = report_key(workspace_id, report["exception_id"])
        if key in self.repository:
            existing: ExceptionReport = self.repository.get(key)
            return existing, False
        at = self.clock()
        quota = self.quota(workspace_id, at)
        if quota.admit(1, limit=limit, kind="exception", at=at) == 0:
            self.save(quota, **quota_head(quota))
            raise QuotaExceededError("the monthly event limit of this workspace's plan is reached",
                                     limit=limit, used=quota.used,
                                     resets_at=resets_at(quota.period).isoformat())
        exception = ExceptionReport.receive(workspace_id=workspace_id,
                                            exception_id=report["exception_id"], report=report, at=at,
                                            client=client)
        self.save(quota, exception, **quota_head(quota))
        return exception, True

    def start_session(self, workspace_id: UUID, *, session_id: str, actor_id: str, source_app: str,
                      source_version: str, started_at: datetime) -> Session:
        """Start a session; starting it again returns it unchanged."""
        key = session_key(workspace_id, session_id)
        if key not in self.repository:
            session = Session.start(workspace_id=workspace_id, session_id=session_id,
                                    actor_id=actor_id, source_app=source_app,
                                    source_version=source_version, started_at=started_at,
                                    at=self.clock())
            try:
                self.save(session)
                return session
            except RecordConflictError:
                pass  # started concurrently by a retry of the same request
        return self.get_session(workspace_id, session_id)

    def sessions_started(self, workspace_id: UUID, session_id: str) -> bool:
        return session_key(workspace_id, session_id) in self.repository

    def get_session(self, workspace_id: UUID, session_id: str) -> Session:
        session: Session = self.load(session_key(workspace_id, session_id), SessionNotFoundError,
                                     "session")
        return session

    @retry_on_conflict
    def expire_session(self, workspace_id: UUID, session_id: str, last_activity: datetime) -> bool:
        """End a session that went quiet, at its last activity; False if it had already ended."""
        session = self.get_session(workspace_id, session_id)
        if session.ended_at is not None:
            return False
        session.end(ended_at=max(last_activity, session.started_at), end_reason="timeout",
                    at=self.clock())
        self.save(session)
        return True

    @retry_on_conflict
    def end_session(self, workspace_id: UUID, *, session_id: str, ended_at: datetime,
                    end_reason: str) -> Session:
        session = self.get_session(workspace_id, session_id)
        session.end(ended_at=ended_at, end_reason=end_reason, at=self.clock())
        self.save(session)
        return session


def new_event_id() -> str:
    """A server-made event id (UUIDv7) for dialects where the client sends none."""
    return str(uuid7())
