"""Heartbeat tokens: opaque secrets in ping URLs, found by a short lookup, stored only as hashes."""

from __future__ import annotations

import hashlib
import hmac
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.ids import global_id

TOKEN_PREFIX = "beet_"
LOOKUP_LENGTH = 12
MIN_SECRET_LENGTH = 22  # 16 random bytes in URL-safe base64: 128 bits


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_lookup(token: str) -> str | None:
    """The short public part of a token, used to find its monitor; None if it is not one of ours."""
    if not token.startswith(TOKEN_PREFIX) or len(token) < len(TOKEN_PREFIX) + MIN_SECRET_LENGTH:
        return None
    return token[len(TOKEN_PREFIX): len(TOKEN_PREFIX) + LOOKUP_LENGTH]


def token_id(lookup: str) -> UUID:
    return global_id("heartbeat_token", lookup)


def token_matches(token: str, lookup: str | None, token_hash: str) -> bool:
    """Whether a presented token is the one whose lookup and hash are stored (constant time)."""
    return token_lookup(token) == lookup and hmac.compare_digest(hash_token(token), token_hash)


class HeartbeatToken(Aggregate):
    """Points a token's lookup at its monitor. Whether the token is current is the monitor's call."""

    def __init__(self, monitor_id: UUID, workspace_id: UUID, lookup: str):
        self.monitor_id = monitor_id
        self.workspace_id = workspace_id
        self.lookup = lookup

    class Issued(Aggregate.Created):
        monitor_id: UUID
        workspace_id: UUID
        lookup: str

    @classmethod
    def issue(cls, *, monitor_id: UUID, workspace_id: UUID, token: str) -> HeartbeatToken:
        lookup = token_lookup(token)
        assert lookup is not None, "issue() takes a token made by the application"
        return cls._create(cls.Issued, id=token_id(lookup), monitor_id=monitor_id,
                           workspace_id=workspace_id, lookup=lookup)
