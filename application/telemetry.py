"""The telemetry context: exact quotas, accepted batches, sessions and exception reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError
from uuid6 import uuid7

from application.admission import (
    ACCEPTED,
    DUPLICATE,
    INVALID,
    LIMIT_EXCEEDED,
    Admission,
    GroupAdmission,
    Outcome,
    encode,
)
from application.base import retry_on_conflict
from domain.errors import QuotaExceededError, SessionNotFoundError
from domain.exception_report import ExceptionReport, report_key
from domain.quota import TenantQuota, period_of, quota_id, resets_at
from domain.session import Session, session_key
from domain.tracked_event import TrackedEvent

# The statuses and the outcome are the admission's; the interfaces know them from here.
__all__ = ["ACCEPTED", "DUPLICATE", "INVALID", "LIMIT_EXCEEDED", "EventLedger", "Outcome",
           "TelemetryApplication", "new_event_id"]


class EventLedger(Protocol):
    """The dedupe ledger: which of these event ids a workspace already has (DESIGN.md decision 3)."""

    def seen(self, workspace_id: UUID, event_ids: list[str]) -> set[str]: ...


class TelemetryApplication(GroupAdmission):
    name = "Telemetry"
    ledger: EventLedger  # set by the composition root: the recorder keeps the ledger

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
               *, limit: int, partial: bool = True) -> Outcome:
        """Admit a request's valid, new events up to the quota, in one transaction with the ledger.

        A first attempt takes its events to be new, as nearly all are, and does not read the
        ledger: the ledger's key refuses an id some earlier request recorded, the transaction
        rolls back whole, and the retry reads the ledger and sorts those out as duplicates. The
        ledger is read first, too, when the quota would refuse some events: a duplicate is
        acknowledged as one, never refused. Nothing counts twice, and a clean batch costs one
        round trip fewer.
        """
        try:
            outcome = self._admit(workspace_id, checked, limit=limit, partial=partial, known=None)
        except RecordConflictError:  # an id already recorded, or another writer moved the quota
            outcome = None
        if outcome is None:
            outcome = self._ingest_known(workspace_id, checked, limit=limit, partial=partial)
        return outcome

    @retry_on_conflict
    def _ingest_known(self, workspace_id: UUID, checked: list[TrackedEvent | list[dict[str, str]]],
                      *, limit: int, partial: bool) -> Outcome:
        """Admit after reading which of the events the ledger already has."""
        valid = [e.event_id for e in checked if isinstance(e, TrackedEvent)]
        known = self.ledger.seen(workspace_id, valid) if valid else set()
        return cast(Outcome, self._admit(workspace_id, checked, limit=limit, partial=partial,
                                         known=known))

    def _admit(self, workspace_id: UUID, checked: list[TrackedEvent | list[dict[str, str]]],
               *, limit: int, partial: bool, known: set[str] | None) -> Outcome | None:
        """Sorting out and encoding happen before taking the workspace's lock; under it, the
        request's quota decision is taken and saved with those of the requests queued beside it
        (application/admission.py). With `known` None (the ledger not read), None when the quota
        would refuse events: which of them are duplicates must be known first."""
        outcome, fresh = self._sort_out(checked, known or set())
        if not fresh:
            return outcome
        events = cast(list[TrackedEvent], checked if len(fresh) == len(checked) else
                      [checked[i] for i in fresh])
        return self.decide(workspace_id, Admission(
            outcome, fresh, events, encode(events), limit, partial, known=known is not None))

    @staticmethod
    def _sort_out(checked: list[TrackedEvent | list[dict[str, str]]], known: set[str]
                  ) -> tuple[Outcome, list[int]]:
        """Invalid events, duplicates (known, or earlier in the batch), and fresh indexes."""
        outcome = Outcome(statuses=[INVALID] * len(checked), event_ids=[None] * len(checked))
        ids = [item.event_id if isinstance(item, TrackedEvent) else None for item in checked]
        if not known and None not in ids and len(set(ids)) == len(ids):  # the usual batch, in bulk
            outcome.event_ids = cast(list[str | None], ids)
            return outcome, list(range(len(checked)))
        seen = set(known)
        fresh: list[int] = []
        for index, item in enumerate(checked):
            if not isinstance(item, TrackedEvent):
                outcome.errors[index] = item
                continue
            outcome.event_ids[index] = item.event_id
            if item.event_id in seen:
                outcome.statuses[index] = DUPLICATE
            else:
                seen.add(item.event_id)
                fresh.append(index)
        return outcome, fresh

    def report_exception(self, workspace_id: UUID, report: dict[str, Any], *,
                         limit: int) -> tuple[ExceptionReport, bool]:
        """Record a report once (it counts against the quota); a repeat returns the first answer."""
        with self.serialised(workspace_id):
            return self._report_exception(workspace_id, report, limit=limit)

    @retry_on_conflict
    def _report_exception(self, workspace_id: UUID, report: dict[str, Any], *,
                          limit: int) -> tuple[ExceptionReport, bool]:
        key = report_key(workspace_id, report["exception_id"])
        if key in self.repository:
            existing: ExceptionReport = self.repository.get(key)
            return existing, False
        at = self.clock()
        quota = self.quota(workspace_id, at)
        if quota.admit(1, limit=limit, kind="exception", at=at) == 0:
            self.save(quota)
            raise QuotaExceededError("the monthly event limit of this workspace's plan is reached",
                                     limit=limit, used=quota.used,
                                     resets_at=resets_at(quota.period).isoformat())
        exception = ExceptionReport.receive(workspace_id=workspace_id,
                                            exception_id=report["exception_id"], report=report, at=at)
        self.save(quota, exception)
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

