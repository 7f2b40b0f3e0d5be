"""Secrets handed to people (sessions, CLI codes, access tokens): a prefix, a lookup, a secret.

Like API keys (DESIGN.md decision 9) they are random, stored only as SHA-256 hashes found by their
short lookup, and compared in constant time. What each one allows lives in its own aggregate.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
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
        self.user_id = user_id
        self.secret_hash = secret_hash
        self.started_at = started_at
        self.last_seen_at = started_at
        self.user_agent = user_agent
        self.ended: str | None = None

    class Started(Aggregate.Created):
        user_id: UUID
        secret_hash: str
        started_at: datetime
        user_agent: str

    @classmethod
    def start(cls, *, user_id: UUID, token: str, at: datetime, user_agent: str) -> LoginSession:
        session_id = credential_id(SESSION_PREFIX, token)
        assert session_id is not None, "start() takes a token made by the application"
        return cls._create(cls.Started, id=session_id, user_id=user_id,
                           secret_hash=hash_secret(token), started_at=at,
                           user_agent=user_agent[:255])

    def expired(self, now: datetime) -> bool:
        return now - self.last_seen_at > self.IDLE or now - self.started_at > self.ABSOLUTE

    def active(self, now: datetime) -> bool:
        return self.ended is None and not self.expired(now)

    class Used(Aggregate.Event):
        at: datetime

        def apply(self, aggregate: LoginSession) -> None:
            aggregate.last_seen_at = self.at

    def use(self, at: datetime) -> bool:
        """Record a use if the last recorded one is old enough; True when an event was made."""
        if at - self.last_seen_at < self.TOUCH_EVERY:
            return False
        self.trigger_event(self.Used, at=at)
        return True



class CliCode(Credential):
    """A one-time code a signed-in person hands to `beacon login`: 10 minutes, one exchange."""

    VALID_FOR = timedelta(minutes=10)

    def __init__(self, user_id: UUID, secret_hash: str, expires_at: datetime):
        self.user_id = user_id
        self.secret_hash = secret_hash
        self.expires_at = expires_at
        self.ended: str | None = None

    class Issued(Aggregate.Created):
        user_id: UUID
        secret_hash: str
        expires_at: datetime

    @classmethod
    def issue(cls, *, user_id: UUID, token: str, at: datetime) -> CliCode:
        code_id = credential_id(CLI_CODE_PREFIX, token)
        assert code_id is not None, "issue() takes a token made by the application"
        return cls._create(cls.Issued, id=code_id, user_id=user_id,
                           secret_hash=hash_secret(token), expires_at=at + cls.VALID_FOR)


class AccessToken(Credential):
    """A bearer token for the CLI, bound to one person, revocable, with its last use."""

    TOUCH_EVERY = timedelta(minutes=1)

    def __init__(self, user_id: UUID, secret_hash: str, name: str, issued_at: datetime):
        self.user_id = user_id
        self.secret_hash = secret_hash
        self.name = name
        self.issued_at = issued_at
        self.last_used_at: datetime | None = None
        self.ended: str | None = None

    class Issued(Aggregate.Created):
        user_id: UUID
        secret_hash: str
        name: str
        issued_at: datetime

    @classmethod
    def issue(cls, *, user_id: UUID, token: str, name: str, at: datetime) -> AccessToken:
        token_id = credential_id(ACCESS_TOKEN_PREFIX, token)
        assert token_id is not None, "issue() takes a token made by the application"
        return cls._create(cls.Issued, id=token_id, user_id=user_id,
                           secret_hash=hash_secret(token), name=name[:255], issued_at=at)

    class Used(Aggregate.Event):
        at: datetime

        def apply(self, aggregate: AccessToken) -> None:
            aggregate.last_used_at = self.at

    def use(self, at: datetime) -> bool:
        if self.last_used_at is not None and at - self.last_used_at < self.TOUCH_EVERY:
            return False
        self.trigger_event(self.Used, at=at)
        return True
