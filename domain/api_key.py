"""API keys: a workspace's credentials, each with scopes, stored only as a hash."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.errors import ValidationError
from domain.ids import global_id

SCOPES = ("ingest", "write", "read", "deploy", "manage")
KEY_PREFIX = "bkn_live_"
# Seed 004's keys: a public one for SDKs (ingest only) and a secret one for deploys and management.
PUBLIC_KEY_PREFIX = "pk_live_"
SECRET_KEY_PREFIX = "sk_live_"
PREFIXES = (KEY_PREFIX, PUBLIC_KEY_PREFIX, SECRET_KEY_PREFIX)
PUBLIC_KEY_SCOPES = ["ingest"]
SECRET_KEY_SCOPES = ["read", "write", "deploy", "manage"]
LOOKUP_LENGTH = 12


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def lookup_of(token: str) -> str | None:
    """The short public part of a key, used to find it; None if the token is not one of ours."""
    for prefix in PREFIXES:
        if token.startswith(prefix) and len(token) >= len(prefix) + LOOKUP_LENGTH + 16:
            return token[len(prefix) : len(prefix) + LOOKUP_LENGTH]
    return None


def shown_prefix(token_prefix: str | None, lookup: str) -> str:
    """How a key is recognised in a list without revealing it: its kind and the first characters
    of its lookup (the part Beacon finds it by, never enough to use it)."""
    return f"{token_prefix or ''}{lookup[:6]}…"


def api_key_id(lookup: str) -> UUID:
    return global_id("api_key", lookup)


class ApiKey(Aggregate):
    """One credential. Revoking is final."""

    def __init__(self, workspace_id: UUID, name: str, scopes: list[str], lookup: str,
                 secret_hash: str, actor: Actor, token_prefix: str | None = None):
        self.workspace_id = workspace_id
        self.token_prefix = token_prefix
        self.name = name
        self.scopes = scopes
        self.lookup = lookup
        self.secret_hash = secret_hash
        self.revoked = False

    class Issued(Aggregate.Created):
        workspace_id: UUID
        name: str
        scopes: list[str]
        lookup: str
        secret_hash: str
        actor: Actor
        token_prefix: str | None = None  # pk_live_, sk_live_ or bkn_live_ (absent before 2026-12-05)

    @classmethod
    def issue(cls, *, workspace_id: UUID, name: str, scopes: list[str], token: str,
              actor: Actor) -> ApiKey:
        if not name or len(name) > 255:
            raise ValidationError("name must be 1-255 characters",
                                  details=[{"field": "name", "message": "1-255 characters"}])
        unknown = [s for s in scopes if s not in SCOPES]
        if not scopes or unknown:
            raise ValidationError(
                f"scopes must be a non-empty list of {', '.join(SCOPES)}",
                details=[{"field": "scopes", "message": f"unknown or missing: {unknown}"}],
            )
        lookup = lookup_of(token)
        assert lookup is not None, "issue() takes a token made by the application"
        return cls._create(
            cls.Issued, id=api_key_id(lookup), workspace_id=workspace_id, name=name,
            scopes=sorted(set(scopes), key=SCOPES.index), lookup=lookup,
            secret_hash=hash_secret(token), actor=actor,
            token_prefix=next(p for p in PREFIXES if token.startswith(p)),
        )

    class Revoked(Aggregate.Event):
        actor: Actor

        def apply(self, aggregate: ApiKey) -> None:
            aggregate.revoked = True

    def revoke(self, actor: Actor) -> None:
        if not self.revoked:
            self.trigger_event(self.Revoked, actor=actor)

    def matches(self, token: str) -> bool:
        """Constant-time comparison of a presented token with the stored hash."""
        return hmac.compare_digest(self.secret_hash, hash_secret(token))

    def allows(self, scope: str) -> bool:
        return not self.revoked and scope in self.scopes

    def as_actor(self) -> Actor:
        return {"key_id": str(self.id), "name": self.name}

    def describe(self) -> dict[str, Any]:
        return {"id": str(self.id), "name": self.name, "scopes": self.scopes,
                "revoked": self.revoked}
