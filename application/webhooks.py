"""Webhook delivery: which deliveries are due, the body each sends, and when to try again or give up.

A sweep claims due deliveries (a lease, so two workers never send the same attempt) and hands each
to `deliver`, in the same thread or through a queue. Delivery is at-least-once: a worker that dies
mid-attempt leaves a lease that runs out, and the attempt is made again with the same delivery id.
Where the deliveries are kept and how a POST travels are ports, filled in by the composition root.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from uuid import UUID

import orjson

from application.base import Clock
from domain.ids import delivery_id
from domain.subscriber import sign
from domain.time import from_micros, iso, micros

log = logging.getLogger("beacon.webhooks")
RETRYABLE_STATUS = {408, 425, 429}


@dataclass(frozen=True)
class DeliveryKey:
    subscriber_id: str
    incident_id: str
    version: int

    def values(self) -> list[Any]:
        return [self.subscriber_id, self.incident_id, self.version]

    @property
    def id(self) -> UUID:
        return delivery_id(*self.values())


@dataclass(frozen=True)
class Outcome:
    status: str  # delivered, pending (to retry), failed, cancelled
    status_code: int | None
    error: str | None
    duration_ms: float
    next_attempt_at: int | None = None  # µs, when pending


@dataclass(frozen=True)
class Sent:
    """What became of one POST: the response's status, or why none came."""

    status_code: int | None
    error: str | None
    duration_ms: float
    transient: bool = True  # no response, but trying again may help (a refused address won't)


@dataclass(frozen=True)
class Recipient:
    """Where one outbox's delivery goes, and the secret that signs it."""

    url: str
    secret: str


class Recipients(Protocol):
    """Who an outbox delivers to (subscribers of a page, channels of an alert) and what about."""

    def recipient(self, key: DeliveryKey) -> Recipient | None:
        """The delivery's recipient, or None if it is gone (the delivery is cancelled)."""

    def subject(self, key: DeliveryKey, delivery: dict[str, Any]) -> dict[str, Any]:
        """What the body carries beside its id, type and time."""


class DeliveryStore(Protocol):
    """The outbox's deliveries with their claims, outcomes and attempts."""

    def due(self, now: int, limit: int = 100) -> list[DeliveryKey]: ...

    def claim(self, key: DeliveryKey, now: int, lease_until: int) -> int | None: ...

    def delivery(self, key: DeliveryKey) -> dict[str, Any] | None: ...

    def record(self, key: DeliveryKey, attempt: int, outcome: Outcome, now: int) -> None: ...

    def prune(self, before: int, limit: int) -> int: ...


class WebhookSender(Protocol):
    """Sends one signed POST to a subscriber's URL."""

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Sent: ...

    def close(self) -> None: ...


# A delivery not tried within this long of its event (the worker was down that long) is given up:
# not sent, shown as `expired`; finding the never-tried ones then reads only this much of the
# outbox, not every delivery ever made (docs/performance.md).
NEVER_TRIED_LOOKBACK_US = 7 * 86_400 * 1_000_000


def delivery_status(status: str | None, occurred_at: int, now: int) -> str:
    """A delivery's status as users read it: pending, delivered, failed, cancelled, or expired
    (never tried within a week of its event: NEVER_TRIED_LOOKBACK_US). Times in µs."""
    if status is not None:
        return status
    return "expired" if occurred_at < now - NEVER_TRIED_LOOKBACK_US else "pending"


@dataclass(frozen=True)
class DeliveryPolicy:
    """How often a delivery is tried: exponential backoff, capped, up to `max_attempts`."""

    max_attempts: int = 8
    backoff_seconds: float = 30.0
    max_backoff_seconds: float = 3600.0
    lease: timedelta = timedelta(minutes=5)

    def retry_after(self, attempt: int) -> timedelta | None:
        """How long to wait after a failed `attempt`, or None to give up."""
        if attempt >= self.max_attempts:
            return None
        wait = min(self.backoff_seconds * 2 ** (attempt - 1), self.max_backoff_seconds)
        return timedelta(seconds=wait)


@dataclass
class WebhookDeliveries:
    """Sends the outbox's deliveries, each attempt recorded, by the policy's retries."""

    store: DeliveryStore
    sender: WebhookSender
    recipients: Recipients
    clock: Clock
    policy: DeliveryPolicy

    def sweep(self, hand_over: Callable[[DeliveryKey, int], Any], limit: int = 100) -> int:
        """Claim every due delivery and hand each attempt over; returns how many were claimed."""
        claimed = 0
        now = self.clock()
        for key in self.store.due(micros(now), limit):
            attempt = self.store.claim(key, micros(now), micros(now + self.policy.lease))
            if attempt is not None:
                claimed += 1
                hand_over(key, attempt)
        return claimed

    def deliver(self, key: DeliveryKey, attempt: int) -> str | None:
        """Make one claimed attempt; returns the outcome, or None if the claim is not ours anymore."""
        delivery = self.store.delivery(key)
        if delivery is None or delivery["status"] != "pending" or delivery["attempts"] != attempt:
            return None
        recipient = self.recipients.recipient(key)
        if recipient is None:
            outcome = Outcome("cancelled", None, "recipient removed", 0.0)
        else:
            outcome = self._attempt(recipient, key, delivery, attempt)
        self.store.record(key, attempt, outcome, micros(self.clock()))
        log.info("delivery %s attempt %d: %s %s", key.id, attempt, outcome.status,
                 outcome.status_code or outcome.error or "")
        return outcome.status

    def body(self, key: DeliveryKey, delivery: dict[str, Any]) -> bytes:
        """The JSON a subscriber receives: the same bytes on every attempt."""
        return orjson.dumps({
            "id": str(key.id), "type": delivery["event_type"],
            "occurred_at": iso(from_micros(delivery["occurred_at"])),
            **self.recipients.subject(key, delivery),
        }, option=orjson.OPT_SORT_KEYS)

    def _attempt(self, recipient: Recipient, key: DeliveryKey, delivery: dict[str, Any],
                 attempt: int) -> Outcome:
        body = self.body(key, delivery)
        sent = self.sender.post(recipient.url, body, {
            "Content-Type": "application/json", "X-Beacon-Delivery": str(key.id),
            "X-Beacon-Event": delivery["event_type"], "X-Beacon-Attempt": str(attempt),
            "X-Beacon-Signature": sign(recipient.secret, body)})
        if sent.status_code is not None:
            error = None if sent.status_code < 300 else f"HTTP {sent.status_code}"
            retry = sent.status_code >= 500 or sent.status_code in RETRYABLE_STATUS
        else:
            error, retry = sent.error, sent.transient
        if error is None:
            return Outcome("delivered", sent.status_code, None, sent.duration_ms)
        wait = self.policy.retry_after(attempt) if retry else None
        if wait is not None:
            return Outcome("pending", sent.status_code, error, sent.duration_ms,
                           next_attempt_at=micros(self.clock() + wait))
        return Outcome("failed", sent.status_code, error, sent.duration_ms)

    def prune(self, history: timedelta, batch: int = 5_000) -> int:
        """Forget the deliveries of events older than `history` (with their attempts), except
        any still pending; returns how many. `history` outlasts NEVER_TRIED_LOOKBACK_US, so a
        delivery made again by a rebuild of the outbox after it was forgotten is expired, never
        sent: forgetting one cannot send it twice."""
        if history.total_seconds() * 1_000_000 <= NEVER_TRIED_LOOKBACK_US:
            raise ValueError("webhook history must outlast the never-tried look-back (7 days)")
        before, pruned = micros(self.clock() - history), 0
        while (done := self.store.prune(before, batch)) > 0:
            pruned += done
        return pruned

    def close(self) -> None:
        self.sender.close()
