"""Group commit of quota decisions (DESIGN.md decision 5, unchanged in substance).

Requests for one workspace queue on its lock. Whoever holds the lock takes every request waiting
behind it, loads the quota once, decides for each request in turn exactly as if it came alone
(its own limit, the usage the requests before it left), and saves every decision, every batch and
every ledger row in one transaction. Each request still gets its own `Decided` event and its own
`EventBatch`, and the answer it would have had in that serial order.

- One transaction: a database error fails every request of the group (each answers 503) and
  writes nothing; a conflict (an id some other request recorded, or another writer moved the
  quota) sends every request of the group back to decide alone, after reading the ledger.
- A request the quota would cut short, or whose ids another request of the group already holds,
  leaves the group undecided and decides alone after reading the ledger, as before.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import RecordConflictError
from uuid6 import uuid7

from application.base import LAST_POSITION, BeaconApplication
from domain.batch import EventBatch
from domain.quota import TenantQuota, resets_at
from domain.tracked_event import TrackedEvent

ACCEPTED, DUPLICATE, INVALID, LIMIT_EXCEEDED = "accepted", "duplicate", "invalid", "limit_exceeded"
MAX_GROUP = 8  # requests per transaction: bounds a group's latency and its transaction's size


@dataclass
class Outcome:
    """What became of each event of a request, by index."""

    statuses: list[str]
    event_ids: list[str | None]
    errors: dict[int, list[dict[str, str]]] = field(default_factory=dict)
    quota_exhausted: bool = False
    used: int = 0
    remaining: int = 0
    resets_at: datetime | None = None

    def count(self, status: str) -> int:
        return self.statuses.count(status)


@dataclass(eq=False)
class Admission:
    """One request's fresh events (indexes into its batch), waiting for a quota decision."""

    outcome: Outcome
    fresh: list[int]
    events: list[TrackedEvent]
    encoded: str
    limit: int
    partial: bool
    known: bool  # the ledger was read, so the quota may refuse some of these events
    decided: bool = False
    undecided: bool = False  # left for a decision alone, after reading the ledger
    conflict: RecordConflictError | None = None  # why, when the group's save conflicted
    error: BaseException | None = None
    position: tuple[str, int] | None = None


class GroupAdmission(BeaconApplication):
    """The part of the telemetry context that decides quotas, a group of requests at a time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting: defaultdict[UUID, list[Admission]] = defaultdict(list)
        self._waiting_guard = threading.Lock()

    def quota(self, workspace_id: UUID, at: datetime | None = None) -> TenantQuota:
        raise NotImplementedError

    def decide(self, workspace_id: UUID, admission: Admission) -> Outcome | None:
        """The request's outcome once its group is saved; None if it must decide alone after
        reading the ledger. Raises RecordConflictError for a request that had read it."""
        with self._waiting_guard:
            self._waiting[workspace_id].append(admission)
        with self._locks[workspace_id]:
            while not admission.decided:  # requests queued before this one go first
                with self._waiting_guard:
                    queue = self._waiting[workspace_id]
                    group, queue[:] = queue[:MAX_GROUP], queue[MAX_GROUP:]
                self._decide_group(workspace_id, group)
        if admission.error is not None:  # a copy: the group's requests raise it side by side
            raise copy.copy(admission.error) from admission.error
        if admission.undecided:
            if admission.known:  # the caller retries conflicts: decide again, from the ledger
                conflict = admission.conflict or RecordConflictError("ids taken in this group")
                raise copy.copy(conflict) from admission.conflict
            return None
        LAST_POSITION.set(admission.position)
        return admission.outcome

    def _decide_group(self, workspace_id: UUID, group: list[Admission]) -> None:
        """Decide and save a group, and mark every request of it decided, whatever happens."""
        try:
            with self.shared_locks.hold(workspace_id):
                self._save_group(workspace_id, group)
        except RecordConflictError as conflict:
            for admission in group:
                admission.undecided, admission.conflict = True, conflict
        except BaseException as error:  # nothing was written: every request of the group fails
            for admission in group:
                admission.error = error
        finally:
            for admission in group:
                admission.decided = True

    def _save_group(self, workspace_id: UUID, group: list[Admission]) -> None:
        at = self.clock()
        quota = self.quota(workspace_id, at)
        batches: list[EventBatch] = []
        ledger: list[str] = []
        taken: set[str] = set()
        decided = []
        for admission in group:
            ids = [admission.outcome.event_ids[i] or "" for i in admission.fresh]
            if (not admission.known and quota.remaining(admission.limit) < len(ids)) or \
                    (len(group) > 1 and not taken.isdisjoint(ids)):
                admission.undecided = True
                continue
            taken.update(ids)
            admitted = quota.admit(len(ids), limit=admission.limit, kind="events", at=at,
                                   partial=admission.partial)
            if admitted:
                encoded = admission.encoded
                if admitted < len(ids):
                    encoded = encode(admission.events[:admitted])
                batches.append(EventBatch.accept(batch_id=uuid7(), workspace_id=workspace_id,
                                                 received_at=at, events_json=encoded,
                                                 count=admitted))
                ledger += ids[:admitted]
            _record(admission, quota, admitted)
            decided.append(admission)
        if not decided:
            return
        recordings = self.save(quota, *batches, ledger=(workspace_id, ledger))
        position = (self.name, recordings[-1].notification.id) if recordings else None
        for admission in decided:
            admission.position = position


def _record(admission: Admission, quota: TenantQuota, admitted: int) -> None:
    """The request's answer, as the quota stood right after its own decision."""
    outcome = admission.outcome
    outcome.quota_exhausted = admitted == 0
    outcome.used, outcome.remaining = quota.used, quota.remaining(admission.limit)
    outcome.resets_at = resets_at(quota.period)
    for n, index in enumerate(admission.fresh):
        outcome.statuses[index] = ACCEPTED if n < admitted else LIMIT_EXCEEDED


def encode(events: list[TrackedEvent]) -> str:
    """A batch's events_json."""
    return orjson.dumps(events).decode()  # a TrackedEvent's fields are its stored record
