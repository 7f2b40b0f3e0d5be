"""People: users, their browser sessions, CLI codes and access tokens (DESIGN.md decision 11).

These aggregates live in the Workspaces application, so a project, its owner's membership and its
keys are created in one transaction. This module holds the people's commands, mixed into it.
"""

from __future__ import annotations

import secrets
from contextlib import suppress
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from application.base import BeaconApplication, retry_on_conflict
from application.passwords import Passwords
from domain.credential import (
    ACCESS_TOKEN_PREFIX,
    CLI_CODE_PREFIX,
    SESSION_PREFIX,
    AccessToken,
    AlreadyUsedError,
    CliCode,
    Credential,
    LoginSession,
    credential_id,
)
from domain.errors import AlreadyExistsError, NotFoundError, ValidationError
from domain.user import User, check_password, user_id

C = TypeVar("C", bound=Credential)


class UserNotFoundError(NotFoundError):
    code = "user_not_found"


class CredentialNotFoundError(NotFoundError):
    code = "not_found"


def new_secret(prefix: str) -> str:
    """A fresh credential: its prefix and 256 random bits, URL-safe."""
    return prefix + secrets.token_urlsafe(32)


class PeopleCommands(BeaconApplication):
    """Sign-up, sign-in and the credentials people hold."""

    passwords = Passwords()

    def create_user(self, *, email: str, password: str, name: str = "") -> User:
        check_password(password)
        user = User.register(email=email, name=name, password_hash=self.passwords.hash(password))
        try:
            self.save(user)
        except RecordConflictError:
            raise AlreadyExistsError("a user with this email exists") from None
        return user

    def get_user(self, uid: UUID) -> User:
        user: User = self.load(uid, UserNotFoundError, "user", kind=User)
        return user

    def find_user(self, email: str) -> User | None:
        try:
            return self.get_user(user_id(email))
        except (UserNotFoundError, ValidationError):
            return None

    def check_login(self, email: str, password: str) -> User | None:
        """The user whose email and password these are, or None. An unknown email costs the same
        Argon2 verification as a wrong password, so neither the answer nor its timing tells."""
        user = self.find_user(email)
        if user is None:
            self.passwords.verify_nobody(password)
            return None
        return user if self.passwords.verify(user.password_hash, password) else None

    @retry_on_conflict
    def start_session(self, user_id_: UUID, user_agent: str = "") -> tuple[LoginSession, str]:
        """Sign a user in; the session token is returned once (it goes in the cookie)."""
        user = self.get_user(user_id_)
        token = new_secret(SESSION_PREFIX)
        session = LoginSession.start(user_id=user.id, token=token, at=self.clock(),
                                     user_agent=user_agent)
        user.sign_in(session.id)
        self.save(user, session)
        return session, token

    def _credential(self, prefix: str, token: str, kind: type[C]) -> C | None:
        credential_uuid = credential_id(prefix, token)
        if credential_uuid is None:
            return None
        try:
            credential: Any = self.repository.get(credential_uuid)
        except AggregateNotFoundError:
            return None
        if not isinstance(credential, kind) or not credential.matches(token):
            return None
        return credential

    def session_for(self, token: str) -> LoginSession | None:
        """The live session behind a cookie (recording its use now and then), or None."""
        session = self._credential(SESSION_PREFIX, token, LoginSession)
        now = self.clock()
        if session is None or not session.active(now):
            return None
        if session.use(now):
            # another request may record a use at the same moment: that is enough
            with suppress(RecordConflictError):
                self.save(session)
        return session

    def sessions_of(self, uid: UUID) -> list[LoginSession]:
        now = self.clock()
        sessions: list[LoginSession] = [self.repository.get(sid) for sid in self.get_user(uid).session_ids]
        return [s for s in sessions if s.active(now)]

    @retry_on_conflict
    def end_session(self, uid: UUID, session_id: UUID, reason: str = "signed out") -> None:
        """Sign one session out; another user's session is not found."""
        session = self._owned(uid, session_id, LoginSession)
        session.end(reason)
        self.save(session)

    def _owned(self, uid: UUID, credential_uuid: UUID, kind: type[C]) -> C:
        credential: Any = None
        with suppress(AggregateNotFoundError):
            credential = self.repository.get(credential_uuid)
        if not isinstance(credential, kind) or credential.user_id != uid:
            raise CredentialNotFoundError(f"{kind.__name__} not found")
        return credential

    @retry_on_conflict
    def change_password(self, uid: UUID, *, current: str, new: str,
                        keep_session: UUID | None) -> None:
        """Change a password and end every other session, in one save."""
        user = self.get_user(uid)
        if not self.passwords.verify(user.password_hash, current):
            raise ValidationError("the current password is wrong",
                                  details=[{"field": "current_password", "message": "wrong"}])
        check_password(new)
        user.change_password(self.passwords.hash(new))
        others: list[Any] = [s for s in self.sessions_of(uid) if s.id != keep_session]
        for session in others:
            session.end("password changed")
        self.save(user, *others)

    def issue_cli_code(self, uid: UUID) -> tuple[CliCode, str]:
        """A one-time code for `beacon login`, valid 10 minutes."""
        token = new_secret(CLI_CODE_PREFIX)
        code = CliCode.issue(user_id=self.get_user(uid).id, token=token, at=self.clock())
        self.save(code)
        return code, token

    def exchange_cli_code(self, code_token: str, name: str = "beacon CLI") -> tuple[AccessToken, str]:
        """Trade a CLI code, once, for an access token bound to its user (shown once)."""
        code_id = credential_id(CLI_CODE_PREFIX, code_token)
        code: Any = None
        with suppress(AggregateNotFoundError):
            code = self.repository.get(code_id) if code_id else None
        if not isinstance(code, CliCode):
            raise AlreadyUsedError("unknown or used code")
        code.redeem(code_token, self.clock(), code.expires_at)
        user = self.get_user(code.user_id)
        token = new_secret(ACCESS_TOKEN_PREFIX)
        access = AccessToken.issue(user_id=user.id, token=token, name=name, at=self.clock())
        user.issue_access_token(access.id)
        try:
            self.save(code, user, access)
        except RecordConflictError:  # another exchange of this code won the race
            raise AlreadyUsedError("this code was used already") from None
        return access, token

    def access_token_for(self, token: str) -> AccessToken | None:
        """The unrevoked access token behind a bearer token (recording its use), or None."""
        access = self._credential(ACCESS_TOKEN_PREFIX, token, AccessToken)
        if access is None or access.ended is not None:
            return None
        if access.use(self.clock()):
            with suppress(RecordConflictError):  # a concurrent request recorded the use
                self.save(access)
        return access

    def access_tokens_of(self, uid: UUID) -> list[AccessToken]:
        return [self.repository.get(tid) for tid in self.get_user(uid).access_token_ids]

    @retry_on_conflict
    def revoke_access_token(self, uid: UUID, token_id: UUID) -> None:
        access = self._owned(uid, token_id, AccessToken)
        access.end("revoked")
        self.save(access)
