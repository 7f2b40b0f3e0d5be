"""Invitations: a single-use link that brings a person into a project with a role, for 7 days."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.api_key import hash_secret
from domain.credential import Credential, credential_id
from domain.membership import check_role
from domain.user import normalise_email

INVITATION_PREFIX = "bki_"


class Invitation(Credential):
    """Accepted once; after 7 days it is gone."""

    VALID_FOR = timedelta(days=7)

    def __init__(self, workspace_id: UUID, email: str, role: str, secret_hash: str,
                 expires_at: datetime, actor: Actor):
        self.workspace_id = workspace_id
        self.email = email
        self.role = role
        self.secret_hash = secret_hash
        self.expires_at = expires_at
        self.user_id = UUID(int=0)  # nobody until accepted
        self.ended: str | None = None

    class Issued(Aggregate.Created):
        workspace_id: UUID
        email: str
        role: str
        secret_hash: str
        expires_at: datetime
        actor: Actor

    @classmethod
    def issue(cls, *, workspace_id: UUID, email: str, role: str, token: str, at: datetime,
              actor: Actor) -> Invitation:
        invitation_id = credential_id(INVITATION_PREFIX, token)
        assert invitation_id is not None, "issue() takes a token made by the application"
        return cls._create(cls.Issued, id=invitation_id, workspace_id=workspace_id,
                           email=normalise_email(email), role=check_role(role),
                           secret_hash=hash_secret(token), expires_at=at + cls.VALID_FOR,
                           actor=actor)
