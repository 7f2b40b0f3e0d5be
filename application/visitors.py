"""Who sent a request's events, as far as Beacon keeps it: visitor ids and the kept client.

Runs on the request path, the one part of enrichment that must: a visitor id needs the client's
raw address, which is never stored unless the workspace opts in, so it is computed while the
request still holds it, with today's salt (docs/decisions/enrichment-pipeline.md).
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from application.base import Clock
from domain.enrichment import Client, visitor_id
from domain.tracked_event import TrackedEvent


class VisitorSalts(Protocol):
    """The daily salts, shared by every API process."""

    def salt_for(self, day: date) -> bytes:
        """The salt of `day` (made at random the first time it is asked for); every older salt
        is destroyed on the way."""
        ...

    def destroy_before(self, day: date) -> int:
        """Destroy every salt older than `day`; returns how many there were."""
        ...


class Visitors:
    """Names anonymous events' actors by their visitor ids, and says what is kept of the client."""

    def __init__(self, salts: VisitorSalts, clock: Clock):
        self.salts = salts
        self.clock = clock
        self._today: tuple[date, bytes] | None = None
        self._lock = threading.Lock()

    def salt(self) -> bytes:
        """Today's salt (UTC), asked of the store once a day per process."""
        day = self.clock().date()
        today = self._today
        if today is None or today[0] != day:
            with self._lock:
                today = self._today = (day, self.salts.salt_for(day))
        return today[1]

    def destroy_expired(self) -> int:
        """Destroy the salts of days that are over, whether or not anyone asked for today's (a
        quiet night would otherwise keep yesterday's until the first request); this process
        forgets its own copy too."""
        day = self.clock().date()
        with self._lock:
            if self._today is not None and self._today[0] != day:
                self._today = None
        return self.salts.destroy_before(day)

    def visitor(self, workspace_id: UUID, client: Client) -> str:
        return visitor_id(self.salt(), workspace_id, client)

    def identify(self, workspace: Any, client: Client, events: list[Any],
                 contexts: dict[str, Client]) -> dict[str, Any]:
        """Give each valid event without an actor its visitor id (from its context's client, or
        the request's); answer the batch's client record (EventBatch.Accepted.client)."""
        store_ip = bool(getattr(workspace, "store_ip", False))
        kept: dict[str, Any] = dict(client.stored(store_ip=store_ip))
        visitors = []
        named: dict[Client, str] = {}  # one hash per client of the request, not one per event
        for event in events:
            if isinstance(event, TrackedEvent) and event.actor_id is None:
                sender = contexts.get(event.event_id, client)
                if sender not in named:
                    named[sender] = self.visitor(workspace.id, sender)
                # Still the request's own object, not yet in any batch: named here, once.
                event.actor_id = named[sender]
                visitors.append(event.event_id)
        if visitors:
            kept["visitors"] = visitors
        if contexts:
            kept["events"] = {event_id: other.stored(store_ip=store_ip)
                              for event_id, other in contexts.items()}
        return kept

    def identify_report(self, workspace: Any, client: Client, report: dict[str, Any],
                        context: Client | None) -> dict[str, Any]:
        """The same for an exception report (checked fields, changed in place)."""
        store_ip = bool(getattr(workspace, "store_ip", False))
        sender = context or client
        kept: dict[str, Any] = dict(sender.stored(store_ip=store_ip))
        if report.get("actor_id") is None:
            report["actor_id"] = self.visitor(workspace.id, sender)
            kept["visitors"] = [report["exception_id"]]
        return kept
