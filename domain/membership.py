"""Memberships: who belongs to a project and with which role, as one roster per workspace.

A role grants the scopes a key of the same scope would have (DESIGN.md decision 11), and a little
more at the top: only an owner manages the plan and deletes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.errors import ConflictError, NotFoundError, ValidationError
from domain.ids import global_id

ROLES = ("viewer", "member", "admin", "owner")
# viewer reads; member writes incidents, monitors, alerts; admin manages keys, members and
# deploys; owner manages the plan and deletes.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "viewer": ("read",),
    "member": ("read", "write"),
    "admin": ("read", "write", "deploy", "manage"),
    "owner": ("read", "write", "deploy", "manage", "own"),
}


class MemberNotFoundError(NotFoundError):
    code = "member_not_found"


class LastOwnerError(ConflictError):
    code = "last_owner"


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationError(f"unknown role {role!r}",
                              details=[{"field": "role", "message": f"one of {', '.join(ROLES)}"}])
    return role


def role_allows(role: str | None, permission: str) -> bool:
    return role is not None and permission in PERMISSIONS.get(role, ())


@dataclass(frozen=True)
class MemberAccess:
    """What a signed-in member may do in one project, shaped like a key's scopes so that every
    endpoint a key may call answers a member alike (DESIGN.md decision 11)."""

    id: UUID  # the user's
    email: str
    role: str

    @property
    def scopes(self) -> list[str]:
        return list(PERMISSIONS[self.role])

    def allows(self, scope: str) -> bool:
        return role_allows(self.role, scope)

    def as_actor(self) -> Actor:
        return {"key_id": None, "name": f"user:{self.email}"}


def roster_id(workspace_id: UUID) -> UUID:
    return global_id("roster", str(workspace_id))


class Roster(Aggregate):
    """The members of one workspace. Every addition, role change and removal is an event."""

    def __init__(self, workspace_id: UUID):
        self.workspace_id = workspace_id
        self.roles: dict[str, str] = {}  # user id (text, for JSON) -> role
        self.emails: dict[str, str] = {}

    class Opened(Aggregate.Created):
        workspace_id: UUID

    @classmethod
    def open(cls, workspace_id: UUID) -> Roster:
        return cls._create(cls.Opened, id=roster_id(workspace_id), workspace_id=workspace_id)

    def role_of(self, user_id: UUID) -> str | None:
        return self.roles.get(str(user_id))

    class MemberAdded(Aggregate.Event):
        user_id: str
        email: str
        role: str
        actor: Actor

        def apply(self, aggregate: Roster) -> None:
            aggregate.roles[self.user_id] = self.role
            aggregate.emails[self.user_id] = self.email

    def add(self, user_id: UUID, email: str, role: str, actor: Actor) -> None:
        check_role(role)
        if str(user_id) in self.roles:
            self.change_role(user_id, role, actor)
            return
        self.trigger_event(self.MemberAdded, user_id=str(user_id), email=email, role=role,
                           actor=actor)

    class RoleChanged(Aggregate.Event):
        user_id: str
        before: str
        after: str
        actor: Actor

        def apply(self, aggregate: Roster) -> None:
            aggregate.roles[self.user_id] = self.after

    def change_role(self, user_id: UUID, role: str, actor: Actor) -> None:
        check_role(role)
        before = self._existing(user_id)
        if before == role:
            return
        if before == "owner":
            self._check_not_last_owner()
        self.trigger_event(self.RoleChanged, user_id=str(user_id), before=before, after=role,
                           actor=actor)

    class MemberRemoved(Aggregate.Event):
        user_id: str
        role: str
        actor: Actor

        def apply(self, aggregate: Roster) -> None:
            del aggregate.roles[self.user_id]

    def remove(self, user_id: UUID, actor: Actor) -> None:
        role = self._existing(user_id)
        if role == "owner":
            self._check_not_last_owner()
        self.trigger_event(self.MemberRemoved, user_id=str(user_id), role=role, actor=actor)

    def _existing(self, user_id: UUID) -> str:
        role = self.roles.get(str(user_id))
        if role is None:
            raise MemberNotFoundError("member not found")
        return role

    def _check_not_last_owner(self) -> None:
        if list(self.roles.values()).count("owner") < 2:
            raise LastOwnerError("a project keeps at least one owner")

    def members(self) -> list[dict[str, Any]]:
        return [{"user_id": uid, "email": self.emails.get(uid, ""), "role": role}
                for uid, role in sorted(self.roles.items(), key=lambda kv: self.emails.get(kv[0], ""))]
