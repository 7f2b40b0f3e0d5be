"""The telemetry context: exact quotas, accepted batches, sessions and exception reports."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import JSONTranscoder, RecordConflictError
from uuid6 import uuid7

from application.admission import (
    ACCEPTED,
    DUPLICATE,
    INVALID,
    LIMIT_EXCEEDED,
    AheadMapper,
    JsonTextAsJson,
    Outcome,
    QuotaClaim,
    Request,
    encode,
)
from application.base import LAST_POSITION, BeaconApplication, retry_on_conflict
from domain.batch import EventBatch
from domain.errors import QuotaExceededError, SessionNotFoundError
from domain.exception_report import ExceptionReport, report_key
from domain.quota import TenantQuota, period_of, quota_id, remaining, resets_at
from domain.session import Session, session_key
from domain.tracked_event import TrackedEvent

# The statuses and the outcome are the admission's; the interfaces know them from here.
__all__ = ["ACCEPTED", "DUPLICATE", "INVALID", "LIMIT_EXCEEDED", "EventLedger", "Outcome",
           "TelemetryApplication", "new_event_id"]


class Claimed(Protocol):
    """A claim the store took: the whole request admitted and saved."""

    used: int  # the quota's count after it
    position: int  # the notification id of the last event saved


class LedgerEntry(Protocol):
    """Which of a request's ids the ledger had not seen (None: none of them), while its
    admission is open; `keep` says which it admitted and gives the save's keyword arguments;
    `claimed`, whether the store took the request's claim (then it is saved already)."""

    new: set[str] | None
    claimed: Claimed | None

    def keep(self, admitted: list[str]) -> dict[str, Any]: ...


class EventLedger(Protocol):
    """The dedupe ledger (DESIGN.md decision 3): the recorder keeps it, in the batch's transaction."""

    serialises_writers: bool  # its admissions queue a workspace's writers, in every process
    takes_claims: bool  # its admissions can take a quota claim at lock time

    def admission(self, workspace_id: UUID, event_ids: list[str], *, retried: bool,
                  read_ahead: tuple[UUID, int] | None = None, claim: QuotaClaim | None = None
                  ) -> AbstractContextManager[LedgerEntry]: ...

    def seen(self, workspace_id: UUID, event_ids: list[str]) -> set[str]: ...


class TelemetryApplication(BeaconApplication):
    name = "Telemetry"
    ledger: EventLedger  # set by the composition root: the recorder keeps the ledger
    mapper: AheadMapper

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(JsonTextAsJson())  # a batch's events, stored as the JSON they are

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
        ledger (application/admission.py). Sorting out, encoding, and mapping the batch to its
        stored form happen before any lock: under it, only the decision and the save."""
        sorted_out, fresh = self._sort_out(checked)
        if not fresh:
            return sorted_out
        events = cast(list[TrackedEvent], checked if len(fresh) == len(checked) else
                      [checked[i] for i in fresh])
        received = self.clock()
        request = Request(workspace_id, sorted_out, fresh, events, received,
                          self._batch(workspace_id, events, received, client), client)
        with self.mapper.ahead(request.batch):
            try:  # taking the events to be new, as nearly all are
                return self._admit(request, limit=limit, partial=partial, retried=False)
            except RecordConflictError:  # an id recorded before, or another writer moved the quota
                return self._admit_again(request, limit=limit, partial=partial)

    @retry_on_conflict
    def _admit_again(self, request: Request, *, limit: int, partial: bool) -> Outcome:
        return self._admit(request, limit=limit, partial=partial, retried=True)

    def _admit(self, request: Request, *, limit: int, partial: bool, retried: bool) -> Outcome:
        """Every attempt starts again from the sorted-out request: a conflict rolls back all.
        A first attempt hands the store a claim to take at lock time; if it does not (the quota
        has no room for all of them), the decision is taken here, under the lock."""
        workspace_id, fresh, events = request.workspace_id, request.fresh, request.events
        outcome = replace(request.sorted_out, statuses=list(request.sorted_out.statuses))
        whole: EventBatch.Accepted | None = request.batch  # the batch of all of them, mapped
        period = period_of(request.received)  # a request counts in the month it arrived
        quota_key = quota_id(workspace_id, period)
        with self._writing(workspace_id), self.ledger.admission(
                workspace_id, [e.event_id for e in events], retried=retried,
                read_ahead=self._cached(quota_key),
                claim=None if retried else self._claim(request, quota_key, limit)
        ) as entry:
            if entry.claimed is not None:  # admitted whole and saved, at lock time
                LAST_POSITION.set((self.name, entry.claimed.position))
                self._follow(quota_key)
                return self._decided(outcome, fresh, len(events), entry.claimed.used, limit,
                                     period)
            if entry.new is not None:  # the ledger had some: acknowledged, never counted again
                new = entry.new
                for index in fresh:
                    if outcome.event_ids[index] not in new:
                        outcome.statuses[index] = DUPLICATE
                fresh = [index for index in fresh if outcome.event_ids[index] in new]
                events, whole = [e for e in events if e.event_id in new], None
                if not events:
                    return outcome
            at = self.clock()
            quota = self.quota(workspace_id, request.received)
            admitted = quota.admit(len(events), limit=limit, kind="events", at=at, partial=partial)
            batch = None
            if admitted:
                batch = whole if whole is not None and admitted == len(events) else \
                    self._batch(workspace_id, events[:admitted], request.received, request.client)
            self.save(quota, batch, **self._head(quota),
                      **entry.keep([e.event_id for e in events[:admitted]]))
        return self._decided(outcome, fresh, admitted, quota.used, limit, period)

    @staticmethod
    def _decided(outcome: Outcome, fresh: list[int], admitted: int, used: int, limit: int,
                 period: str) -> Outcome:
        outcome.quota_exhausted = admitted == 0
        outcome.used, outcome.remaining = used, remaining(limit, used)
        outcome.resets_at = resets_at(period)
        for n, index in enumerate(fresh):
            outcome.statuses[index] = ACCEPTED if n < admitted else LIMIT_EXCEEDED
        return outcome

    @staticmethod
    def _head(quota: TenantQuota) -> dict[str, Any]:
        """A save's keyword argument for the quota's head (what claims are checked against):
        its id, version and count, as this decision leaves them."""
        return {"quota_head": (quota.id, quota.version, quota.used)}

    def _claim(self, request: Request, quota_key: UUID, limit: int) -> QuotaClaim | None:
        """The decision to admit the whole request, for the store to take at lock time; none
        where the store cannot take claims, or where this process's copy of the quota already
        says it has no room (a refused claim costs the request its ledger inserts twice)."""
        if not self.ledger.takes_claims:
            return None
        requested = len(request.events)
        cached = self._cached_quota(quota_key)
        if cached is not None and cached.remaining(limit) < requested:
            return None
        decision = TenantQuota.admitting_all(quota_key, requested, limit=limit, kind="events",
                                             at=request.received)
        return QuotaClaim(quota_key, requested, limit, self.mapper.to_stored_event(decision),
                          self.mapper.to_stored_event(request.batch))

    def _cached(self, aggregate_id: UUID) -> tuple[UUID, int] | None:
        """The aggregate's id and the version this process has cached, if it has: what the
        repository's next read of it fast-forwards from (or from later, if another thread
        fast-forwarded it meanwhile)."""
        cached = self._cached_quota(aggregate_id)
        return None if cached is None else (aggregate_id, cached.version)

    def _follow(self, quota_key: UUID) -> None:
        """Bring this process's copy of the quota up to the claim just taken, after the lock:
        from the events the claim read back (no round trip), or, the first time, by reading
        the quota. The decision taken here when the quota fills up, under the lock, and a usage
        report then read only what came after."""
        self.repository.get(quota_key, deepcopy_from_cache=False)  # only its moving on matters

    def _cached_quota(self, aggregate_id: UUID) -> TenantQuota | None:
        """This process's copy of the quota, as of its last read here (perhaps behind)."""
        try:
            cached = self.repository.cache.get(aggregate_id) if self.repository.cache else None
        except KeyError:
            return None
        return cast(TenantQuota | None, cached)

    @staticmethod
    def _batch(workspace_id: UUID, events: list[TrackedEvent], received: datetime,
               client: dict[str, Any] | None) -> EventBatch.Accepted:
        """The domain event of a batch of these events (saved as is: batches are never read
        back as aggregates)."""
        accepted = EventBatch.accept(batch_id=uuid7(), workspace_id=workspace_id,
                                     received_at=received, events_json=encode(events),
                                     count=len(events), client=client)
        return cast(EventBatch.Accepted, accepted.collect_events()[0])

    def construct_mapper(self) -> AheadMapper:
        return cast(AheadMapper, self.factory.mapper(transcoder=self.construct_transcoder(),
                                                     mapper_class=AheadMapper))

    def _writing(self, workspace_id: UUID) -> AbstractContextManager[None]:
        """The workspace's lock, unless the ledger's admission takes one itself."""
        return nullcontext() if self.ledger.serialises_writers else self.serialised(workspace_id)

    @staticmethod
    def _sort_out(checked: list[TrackedEvent | list[dict[str, str]]]) -> tuple[Outcome, list[int]]:
        """Invalid events, duplicates earlier in the batch, and the fresh events' indexes."""
        outcome = Outcome(statuses=[INVALID] * len(checked), event_ids=[None] * len(checked))
        ids = [item.event_id if isinstance(item, TrackedEvent) else None for item in checked]
        if None not in ids and len(set(ids)) == len(ids):  # the usual batch, in bulk
            outcome.event_ids = cast(list[str | None], ids)
            return outcome, list(range(len(checked)))
        seen: set[str] = set()
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
            self.save(quota, **self._head(quota))
            raise QuotaExceededError("the monthly event limit of this workspace's plan is reached",
                                     limit=limit, used=quota.used,
                                     resets_at=resets_at(quota.period).isoformat())
        exception = ExceptionReport.receive(workspace_id=workspace_id,
                                            exception_id=report["exception_id"], report=report, at=at,
                                            client=client)
        self.save(quota, exception, **self._head(quota))
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

