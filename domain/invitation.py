"""Invitations: a single-use link that brings a person into a project with a role, for 7 days."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.credential import Credential
from domain.membership import check_role
from domain.user import normalise_email

INVITATION_PREFIX = "bki_"


class Invitation(Credential):
    """Accepted once; after 7 days it is gone."""

    VALID_FOR = timedelta(days=7)

    def __init__(self, workspace_id: UUID, email: str, role: str, secret_hash: str,
                 expires_at: datetime, actor: Actor):
        self._held_by(UUID(int=0), secret_hash)  # held by nobody: whoever has the link
        self.workspace_id = workspace_id
        self.email = email
        self.role = role
        self.expires_at = expires_at

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
        invitation: Invitation = cls._made(
            cls.Issued, INVITATION_PREFIX, token, workspace_id=workspace_id,
            email=normalise_email(email), role=check_role(role), expires_at=at + cls.VALID_FOR,
            actor=actor)
        return invitation
