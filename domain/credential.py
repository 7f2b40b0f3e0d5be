"""Secrets handed to people (sessions, CLI codes, access tokens): a prefix, a lookup, a secret.

Like API keys (DESIGN.md decision 9) they are random, stored only as SHA-256 hashes found by their
short lookup, and compared in constant time. What each one allows lives in its own aggregate.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.api_key import LOOKUP_LENGTH, hash_secret
from domain.errors import DomainError, GoneError
from domain.ids import global_id

SESSION_PREFIX = "bks_"
CLI_CODE_PREFIX = "bkc_"
ACCESS_TOKEN_PREFIX = "bka_"


class AlreadyUsedError(DomainError):
    """A single-use credential presented a second time (answered 400)."""

    code = "already_used"


class ExpiredError(GoneError):
    code = "expired"


def lookup_in(token: str, prefix: str) -> str | None:
    """The lookup part of a token with `prefix`, or None when it is not one."""
    if not token.startswith(prefix) or len(token) < len(prefix) + LOOKUP_LENGTH + 16:
        return None
    return token[len(prefix): len(prefix) + LOOKUP_LENGTH]


def credential_id(prefix: str, token: str) -> UUID | None:
    lookup = lookup_in(token, prefix)
    return None if lookup is None else global_id(f"credential:{prefix}", lookup)


class Credential(Aggregate):
    """What every person's credential shares: its owner, its hash, and an end that is final."""

    user_id: UUID
    secret_hash: str
    ended: str | None
    last_used_at: datetime | None
    TOUCH_EVERY = timedelta(minutes=1)  # uses are recorded at most this often

    @classmethod
    def _made(cls, event: Any, prefix: str, token: str, **fields: Any) -> Any:
        """Create a credential from a token the application drew: id and hash come from it."""
        credential_uuid = credential_id(prefix, token)
        assert credential_uuid is not None, "takes a token made by the application"
        return cls._create(event, id=credential_uuid, secret_hash=hash_secret(token), **fields)

    def _held_by(self, user_id: UUID, secret_hash: str) -> None:
        self.user_id = user_id
        self.secret_hash = secret_hash
        self.ended = None
        self.last_used_at = None

    class Used(Aggregate.Event):
        at: datetime

        def apply(self, aggregate: Credential) -> None:
            aggregate.last_used_at = self.at

    def use(self, at: datetime) -> bool:
        """Record a use unless one was recorded lately; True when an event was made."""
        if self.last_used_at is not None and at - self.last_used_at < self.TOUCH_EVERY:
            return False
        self.trigger_event(self.Used, at=at)
        return True

    def matches(self, token: str) -> bool:
        return hmac.compare_digest(self.secret_hash, hash_secret(token))

    class Ended(Aggregate.Event):
        reason: str

        def apply(self, aggregate: Credential) -> None:
            aggregate.ended = self.reason

    def redeem(self, token: str, now: datetime, expires_at: datetime) -> None:
        """Use a single-use credential once: refused if wrong, used before, or past its time."""
        if not self.matches(token):
            raise AlreadyUsedError("unknown or used code")
        if self.ended is not None:
            raise AlreadyUsedError("this code was used already")
        if now >= expires_at:
            raise ExpiredError("this code has expired")
        self.end("redeemed")

    def end(self, reason: str) -> None:
        if self.ended is None:
            self.trigger_event(self.Ended, reason=reason)


class LoginSession(Credential):
    """A browser's sign-in: ends after 14 idle days, 30 days in all, or when revoked."""

    IDLE = timedelta(days=14)
    ABSOLUTE = timedelta(days=30)
    # Use is recorded at most this often: idle expiry counts in days, a write per request would not.
    TOUCH_EVERY = timedelta(hours=1)

    def __init__(self, user_id: UUID, secret_hash: str, started_at: datetime, user_agent: str):
        self._held_by(user_id, secret_hash)
        self.started_at = started_at
        self.last_used_at = started_at
        self.user_agent = user_agent

    class Started(Aggregate.Created):
        user_id: UUID
        secret_hash: str
        started_at: datetime
        user_agent: str

    @classmethod
    def start(cls, *, user_id: UUID, token: str, at: datetime, user_agent: str) -> LoginSession:
        session: LoginSession = cls._made(cls.Started, SESSION_PREFIX, token, user_id=user_id,
                                          started_at=at, user_agent=user_agent[:255])
        return session

    @property
    def last_seen_at(self) -> datetime:
        return self.last_used_at or self.started_at

    def expired(self, now: datetime) -> bool:
        return now - self.last_seen_at > self.IDLE or now - self.started_at > self.ABSOLUTE

    def active(self, now: datetime) -> bool:
        return self.ended is None and not self.expired(now)


class CliCode(Credential):
    """A one-time code a signed-in person hands to `beacon login`: 10 minutes, one exchange."""

    VALID_FOR = timedelta(minutes=10)

    def __init__(self, user_id: UUID, secret_hash: str, expires_at: datetime):
        self._held_by(user_id, secret_hash)
        self.expires_at = expires_at

    class Issued(Aggregate.Created):
        user_id: UUID
        secret_hash: str
        expires_at: datetime

    @classmethod
    def issue(cls, *, user_id: UUID, token: str, at: datetime) -> CliCode:
        code: CliCode = cls._made(cls.Issued, CLI_CODE_PREFIX, token, user_id=user_id,
                                  expires_at=at + cls.VALID_FOR)
        return code


class AccessToken(Credential):
    """A bearer token for the CLI, bound to one person, revocable, with its last use."""

    def __init__(self, user_id: UUID, secret_hash: str, name: str, issued_at: datetime):
        self._held_by(user_id, secret_hash)
        self.name = name
        self.issued_at = issued_at

    class Issued(Aggregate.Created):
        user_id: UUID
        secret_hash: str
        name: str
        issued_at: datetime

    @classmethod
    def issue(cls, *, user_id: UUID, token: str, name: str, at: datetime) -> AccessToken:
        access: AccessToken = cls._made(cls.Issued, ACCESS_TOKEN_PREFIX, token, user_id=user_id,
                                        name=name[:255], issued_at=at)
        return access
