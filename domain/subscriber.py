"""Webhook subscribers of a status page: where incident news is sent, and the secret that signs it."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.errors import ValidationError

MAX_URL = 2048


def check_url(url: object) -> str:
    """An absolute http(s) URL with a host and no credentials in it, and no whitespace or
    control characters (urlsplit drops tabs and line breaks before looking: the URL stored
    would not be the one checked)."""
    if isinstance(url, str) and (not url.isprintable() or any(c.isspace() for c in url)):
        url = None
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
        port = parts.port if parts else None  # raises on a malformed port
    except ValueError:
        parts = None
    if (parts is None or len(str(url)) > MAX_URL or parts.scheme not in ("http", "https")
            or not parts.hostname or parts.username is not None or port == 0):
        raise ValidationError("url must be an absolute http or https URL",
                              details=[{"field": "url", "message": "http(s)://host/path"}])
    return str(url)


def check_secret(secret: object) -> str:
    if not isinstance(secret, str) or not 16 <= len(secret) <= 256 or not secret.isprintable():
        raise ValidationError("secret must be 16-256 printable characters",
                              details=[{"field": "secret", "message": "16-256 characters"}])
    return secret


class Subscriber(Aggregate):
    """One webhook endpoint subscribed to a page's incidents. Removing it is final."""

    def __init__(self, workspace_id: UUID, page_id: UUID, page_slug: str, url: str, secret: str,
                 actor: Actor, components: list[str] | None):
        self.workspace_id = workspace_id
        self.page_id = page_id
        self.page_slug = page_slug
        self.url = url
        self.secret = secret
        self.removed = False
        self.components = components  # None: everything on the page; else what touches these

    class Subscribed(Aggregate.Created):
        class_version = 2

        workspace_id: UUID
        page_id: UUID
        page_slug: str
        url: str
        secret: str
        actor: Actor
        components: list[str] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Subscribers from before components chose none: they get everything."""
            state["components"] = None

    @classmethod
    def subscribe(cls, *, subscriber_id: UUID, workspace_id: UUID, page_id: UUID,
                  page_slug: str, url: str, secret: str, actor: Actor, at: datetime,
                  components: list[str] | None = None) -> Subscriber:
        return cls._create(cls.Subscribed, id=subscriber_id, timestamp=at,
                           workspace_id=workspace_id, page_id=page_id, page_slug=page_slug,
                           url=check_url(url), secret=check_secret(secret), actor=actor,
                           components=sorted(set(components)) if components is not None
                           else None)

    class Removed(Aggregate.Event):
        actor: Actor

        def apply(self, aggregate: Subscriber) -> None:
            aggregate.removed = True

    def remove(self, *, actor: Actor, at: datetime) -> None:
        if not self.removed:
            self.trigger_event(self.Removed, timestamp=at, actor=actor)

    def sign(self, body: bytes) -> str:
        """The X-Beacon-Signature of a body: hex HMAC-SHA256 with this subscriber's secret."""
        return sign(self.secret, body)


def sign(secret: str, body: bytes) -> str:
    """A webhook's X-Beacon-Signature: hex HMAC-SHA256 of the body with the recipient's secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
