"""The dedupe ledger's port (DESIGN.md decision 3): what the telemetry application asks of the
store that keeps the ledger, in the batch's transaction, and the quota claim it may take."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application.base import SharedLocks


@dataclass(frozen=True)
class QuotaClaim:
    """A request's quota decision for the store to take at lock time (PostgreSQL): all of its
    `requested` events admitted, saved as the quota's next version only if the quota's last
    saved version leaves room for them under `limit`. Both events are mapped before the lock;
    the decision's version is the store's to give (docs/decisions/quota-claims.md)."""

    quota_id: UUID
    requested: int
    limit: int
    decision: StoredEvent  # the quota's Decided event, its version a placeholder
    batch: StoredEvent


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


@runtime_checkable
class EventLedger(Protocol):
    """The recorder keeps the ledger: its admissions record a request's ids, and may queue the
    workspace's writers and take claims; `workspace_locks` are the locks its admissions take,
    for the other writers of a workspace (exception reports)."""

    serialises_writers: bool  # its admissions queue a workspace's writers, in every process
    takes_claims: bool  # its admissions can take a quota claim at lock time
    workspace_locks: SharedLocks

    def admission(self, workspace_id: UUID, event_ids: list[str], *, retried: bool,
                  read_ahead: tuple[UUID, int] | None = None, claim: QuotaClaim | None = None
                  ) -> AbstractContextManager[LedgerEntry]: ...

    def seen(self, workspace_id: UUID, event_ids: list[str]) -> set[str]: ...
