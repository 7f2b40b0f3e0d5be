"""Sends the outbox's deliveries: signed POSTs, every attempt recorded, retries with backoff.

A sweep claims due deliveries (a lease, so two workers never send the same attempt) and hands each
to `deliver`, in the same thread or through a queue. Delivery is at-least-once: a worker that dies
mid-attempt leaves a lease that runs out, and the attempt is made again with the same delivery id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import httpx
import orjson

from application.base import Clock
from application.statuspages import StatusPagesApplication
from domain.errors import NotFoundError
from domain.incident import Incident
from domain.subscriber import Subscriber
from infrastructure.webhook_addresses import PrivateAddressError, resolve
from infrastructure.webhook_bodies import subject_body
from infrastructure.webhook_deliveries import DeliveryKey, DeliveryStore, Outcome
from projections.model import from_micros, micros
from projections.webhooks import delivery_id, iso_z

log = logging.getLogger("beacon.webhooks")
RETRYABLE_STATUS = {408, 425, 429}
MAX_BACKOFF_SECONDS = 3600
LEASE = timedelta(minutes=5)


def incident_body(incident: Incident) -> dict[str, Any]:
    """The incident as a webhook shows it: its fields and timeline at the event's version."""
    return {
        "id": str(incident.id), "page_slug": incident.page_slug, "title": incident.title,
        "impact": incident.impact, "state": incident.state, "resolved": incident.resolved,
        "resolved_at": iso_z(incident.resolved_at), "created_at": iso_z(incident.created_on),
        "updated_at": iso_z(incident.modified_on), "version": incident.version,
        "updates": [{"id": u["id"], "message": u["message"], "created_at": iso_z(u["created_at"])}
                    for u in incident.updates],
    }


class WebhookDispatcher:
    def __init__(self, store: DeliveryStore, statuspages: StatusPagesApplication, clock: Clock, *,
                 allow_private: bool, timeout: float = 10.0, max_attempts: int = 8,
                 backoff_seconds: float = 30.0):
        self.store = store
        self.statuspages = statuspages
        self.clock = clock
        self.allow_private = allow_private
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.client = httpx.Client(timeout=timeout, follow_redirects=False,
                                   headers={"User-Agent": "Beacon-Webhooks/0.1"})

    def sweep(self, hand_over: Callable[[DeliveryKey, int], Any], limit: int = 100) -> int:
        """Claim every due delivery and hand each attempt over; returns how many were claimed."""
        claimed = 0
        now = self.clock()
        for key in self.store.due(micros(now), limit):
            attempt = self.store.claim(key, micros(now), micros(now + LEASE))
            if attempt is not None:
                claimed += 1
                hand_over(key, attempt)
        return claimed

    def dispatch_due(self) -> int:
        """Send every due delivery now, in this thread (tests and the CLI use this)."""
        return self.sweep(self.deliver)

    def deliver(self, key: DeliveryKey, attempt: int) -> str | None:
        """Make one claimed attempt; returns the outcome, or None if the claim is not ours anymore."""
        delivery = self.store.delivery(key)
        if delivery is None or delivery["status"] != "pending" or delivery["attempts"] != attempt:
            return None
        try:
            subscriber = self.statuspages.get_subscriber(UUID(key.subscriber_id))
        except NotFoundError:
            subscriber = None
        if subscriber is None or subscriber.removed:
            outcome = Outcome("cancelled", None, "subscriber removed", 0.0)
        else:
            outcome = self._attempt(subscriber, key, delivery, attempt)
        self.store.record(key, attempt, outcome, micros(self.clock()))
        log.info("delivery %s attempt %d: %s %s", delivery_id(*key.values()), attempt,
                 outcome.status, outcome.status_code or outcome.error or "")
        return outcome.status

    def body(self, key: DeliveryKey, delivery: dict[str, Any]) -> bytes:
        """The JSON a subscriber receives: the same bytes on every attempt."""
        kind = delivery["event_type"].split(".", 1)[0]  # incident, component or maintenance
        subject = incident_body(self.statuspages.incident_at_version(
            UUID(key.incident_id), key.version)) if kind == "incident" else \
            subject_body(self.statuspages, kind, UUID(key.incident_id), key.version)
        return orjson.dumps({
            "id": str(delivery_id(*key.values())), "type": delivery["event_type"],
            "occurred_at": iso_z(from_micros(delivery["occurred_at"])),
            "page": {"slug": delivery["page_slug"]}, kind: subject,
            "changes": delivery["changes"],
        }, option=orjson.OPT_SORT_KEYS)

    def _attempt(self, subscriber: Subscriber, key: DeliveryKey, delivery: dict[str, Any],
                 attempt: int) -> Outcome:
        started = time.perf_counter()
        status_code: int | None = None
        try:
            body = self.body(key, delivery)
            address = resolve(subscriber.url, self.allow_private)
            url, extensions, host = _pinned(subscriber.url, address)
            response = self.client.post(url, content=body, extensions=extensions, headers={
                "Host": host, "Content-Type": "application/json",
                "X-Beacon-Delivery": str(delivery_id(*key.values())),
                "X-Beacon-Event": delivery["event_type"], "X-Beacon-Attempt": str(attempt),
                "X-Beacon-Signature": subscriber.sign(body)})
            status_code = response.status_code
            error = None if status_code < 300 else f"HTTP {status_code}"
            retry = status_code >= 500 or status_code in RETRYABLE_STATUS
        except PrivateAddressError as refused:
            error, retry = refused.message, False
        except httpx.TimeoutException:
            error, retry = "timed out", True
        except httpx.TransportError as failure:
            error, retry = f"connection failed: {type(failure).__name__}: {failure}"[:500], True
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        if error is None:
            return Outcome("delivered", status_code, None, duration_ms)
        if retry and attempt < self.max_attempts:
            wait = min(self.backoff_seconds * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
            return Outcome("pending", status_code, error, duration_ms,
                           next_attempt_at=micros(self.clock() + timedelta(seconds=wait)))
        return Outcome("failed", status_code, error, duration_ms)

    def close(self) -> None:
        self.client.close()


def _pinned(url: str, address: str) -> tuple[str, dict[str, Any], str]:
    """The URL aimed at the checked address, the TLS name to verify, and the Host header."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    original_host = parts.netloc.rsplit("@", 1)[-1]
    return pinned, extensions, original_host
