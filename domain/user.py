"""Users: the people who sign in to Beacon, by email and password (stored only as a hash)."""

from __future__ import annotations

import re
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import ValidationError
from domain.ids import global_id

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively, so one person cannot hold two accounts by case."""
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 254:
        raise ValidationError("not an email address",
                              details=[{"field": "email", "message": "an email address"}])
    return email


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH or len(password) > 1024:
        raise ValidationError(
            f"the password must be {MIN_PASSWORD_LENGTH}-1024 characters",
            details=[{"field": "password", "message": f"at least {MIN_PASSWORD_LENGTH} characters"}])


def user_id(email: str) -> UUID:
    """One id per email: registering the same email twice conflicts on the aggregate."""
    return global_id("user", normalise_email(email))


class User(Aggregate):
    """A person. Which projects they belong to is kept here; their role there, in the roster."""

    def __init__(self, email: str, name: str, password_hash: str):
        self.email = email
        self.name = name
        self.password_hash = password_hash
        self.workspace_ids: list[UUID] = []
        self.session_ids: list[UUID] = []
        self.access_token_ids: list[UUID] = []

    class Registered(Aggregate.Created):
        email: str
        name: str
        password_hash: str

    @classmethod
    def register(cls, *, email: str, name: str, password_hash: str) -> User:
        email = normalise_email(email)
        if len(name) > 255:
            raise ValidationError("name must be at most 255 characters",
                                  details=[{"field": "name", "message": "at most 255"}])
        return cls._create(cls.Registered, id=user_id(email), email=email, name=name or email,
                           password_hash=password_hash)

    class PasswordChanged(Aggregate.Event):
        password_hash: str

        def apply(self, aggregate: User) -> None:
            aggregate.password_hash = self.password_hash

    def change_password(self, password_hash: str) -> None:
        self.trigger_event(self.PasswordChanged, password_hash=password_hash)

    class JoinedProject(Aggregate.Event):
        workspace_id: UUID

        def apply(self, aggregate: User) -> None:
            aggregate.workspace_ids.append(self.workspace_id)

    def join(self, workspace_id: UUID) -> None:
        if workspace_id not in self.workspace_ids:
            self.trigger_event(self.JoinedProject, workspace_id=workspace_id)

    class LeftProject(Aggregate.Event):
        workspace_id: UUID

        def apply(self, aggregate: User) -> None:
            aggregate.workspace_ids.remove(self.workspace_id)

    def leave(self, workspace_id: UUID) -> None:
        if workspace_id in self.workspace_ids:
            self.trigger_event(self.LeftProject, workspace_id=workspace_id)

    class SignedIn(Aggregate.Event):
        session_id: UUID

        def apply(self, aggregate: User) -> None:
            aggregate.session_ids.append(self.session_id)

    def sign_in(self, session_id: UUID) -> None:
        self.trigger_event(self.SignedIn, session_id=session_id)

    class AccessTokenIssued(Aggregate.Event):
        token_id: UUID

        def apply(self, aggregate: User) -> None:
            aggregate.access_token_ids.append(self.token_id)

    def issue_access_token(self, token_id: UUID) -> None:
        self.trigger_event(self.AccessTokenIssued, token_id=token_id)

    def describe(self) -> dict[str, str]:
        return {"id": str(self.id), "email": self.email, "name": self.name}
