"""How a request's events are admitted (docs/decisions/ledger-before-the-lock.md).

Its valid events are sorted out, encoded and mapped to the batch's stored form first
(`AheadMapper`); then the ledger records their ids, and says which it already had (duplicates);
then, with the workspace's writers queued behind it, the quota decides how many of the new ones
it admits, and the decision, the batch and the ledger rows of what was admitted are saved in one
transaction. Where the ledger's store takes claims (PostgreSQL), a first attempt hands it the
decision to admit the whole request, which it takes at lock time when the quota has room
(docs/decisions/quota-claims.md). A database error anywhere writes nothing and answers 503.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import Repository
from eventsourcing.persistence import RecordConflictError

from application.base import LAST_POSITION, Clock, retry_on_conflict
from application.ledger import EventLedger, QuotaClaim
from application.outcome import ACCEPTED, DUPLICATE, LIMIT_EXCEEDED, Outcome
from application.stored_batches import AheadMapper, batch_accepted
from domain.batch import EventBatch
from domain.quota import TenantQuota, has_room, period_of, quota_id, remaining, resets_at
from domain.tracked_event import TrackedEvent


@dataclass(frozen=True)
class Request:
    """A request's events as sorted out before its admission: every attempt starts from it."""

    workspace_id: UUID
    sorted_out: Outcome
    fresh: list[int]  # the indexes of its valid events not repeated earlier in the request
    events: list[TrackedEvent]  # those events
    received: datetime
    batch: EventBatch.Accepted  # all of them as one batch, received then
    client: dict[str, Any] | None = None  # who sent them, as kept (EventBatch.Accepted.client)


def quota_head(quota: TenantQuota) -> dict[str, Any]:
    """A save's keyword argument for the quota's head (what claims are checked against): its
    id, version and count, as this decision leaves them."""
    return {"quota_head": (quota.id, quota.version, quota.used)}


class Admission:
    """Admits requests for one telemetry application: maps each batch ahead, hands the ledger
    a claim where it takes them, and otherwise has the quota decide under the workspace's lock.
    `quota` loads a workspace's quota for a moment; `save` and `serialised` are the
    application's."""

    def __init__(self, name: str, ledger: EventLedger, mapper: AheadMapper,
                 repository: Repository[UUID], clock: Clock, *,
                 quota: Callable[[UUID, datetime], TenantQuota], save: Callable[..., Any],
                 serialised: Callable[[UUID], AbstractContextManager[None]]):
        self.name = name
        self.ledger = ledger
        self.mapper = mapper
        self.repository = repository
        self.clock = clock
        self.quota = quota
        self.save = save
        self.serialised = serialised

    def admit(self, request: Request, *, limit: int, partial: bool) -> Outcome:
        """Admit the request's new events up to the quota, in one transaction with the ledger.
        Mapping the batch to its stored form happens before any lock: under it, only the
        decision and the save."""
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
                return decided(outcome, fresh, len(events), entry.claimed.used, limit, period)
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
                    batch_accepted(workspace_id, events[:admitted], request.received,
                                   request.client)
            self.save(quota, batch, **quota_head(quota),
                      **entry.keep([e.event_id for e in events[:admitted]]))
        return decided(outcome, fresh, admitted, quota.used, limit, period)

    def _claim(self, request: Request, quota_key: UUID, limit: int) -> QuotaClaim | None:
        """The decision to admit the whole request, for the store to take at lock time; none
        where the store cannot take claims, or where this process's copy of the quota already
        says it has no room (a refused claim costs the request its ledger inserts twice)."""
        if not self.ledger.takes_claims:
            return None
        requested = len(request.events)
        cached = self.cached_quota(quota_key)
        if cached is not None and not has_room(limit, cached.used, requested):
            return None
        decision = TenantQuota.admitting_all(quota_key, requested, limit=limit, kind="events",
                                             at=request.received)
        return QuotaClaim(quota_key, requested, limit, self.mapper.to_stored_event(decision),
                          self.mapper.to_stored_event(request.batch))

    def _cached(self, aggregate_id: UUID) -> tuple[UUID, int] | None:
        """The aggregate's id and the version this process has cached, if it has: what the
        repository's next read of it fast-forwards from (or from later, if another thread
        fast-forwarded it meanwhile)."""
        cached = self.cached_quota(aggregate_id)
        return None if cached is None else (aggregate_id, cached.version)

    def _follow(self, quota_key: UUID) -> None:
        """Bring this process's copy of the quota up to the claim just taken, after the lock:
        from the events the claim read back (no round trip), or, the first time, by reading
        the quota. The decision taken here when the quota fills up, under the lock, and a usage
        report then read only what came after."""
        self.repository.get(quota_key, deepcopy_from_cache=False)  # only its moving on matters

    def cached_quota(self, aggregate_id: UUID) -> TenantQuota | None:
        """This process's copy of the quota, as of its last read here (perhaps behind)."""
        try:
            cached = self.repository.cache.get(aggregate_id) if self.repository.cache else None
        except KeyError:
            return None
        return cast(TenantQuota | None, cached)

    def _writing(self, workspace_id: UUID) -> AbstractContextManager[None]:
        """The workspace's lock, unless the ledger's admission takes one itself."""
        return nullcontext() if self.ledger.serialises_writers else self.serialised(workspace_id)


def decided(outcome: Outcome, fresh: list[int], admitted: int, used: int, limit: int,
            period: str) -> Outcome:
    """The outcome once the quota admitted the first `admitted` of the `fresh` events."""
    outcome.quota_exhausted = admitted == 0
    outcome.used, outcome.remaining = used, remaining(limit, used)
    outcome.resets_at = resets_at(period)
    for n, index in enumerate(fresh):
        outcome.statuses[index] = ACCEPTED if n < admitted else LIMIT_EXCEEDED
    return outcome
