"""Projects (seed 004's word for a workspace): slugs, members and invitations.

Mixed into the Workspaces application, so a project, its slug, its roster and its keys are saved
together, and a membership change and the user's list of projects move in one transaction.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from application.base import BeaconApplication, retry_on_conflict
from application.people import new_secret
from domain.actor import Actor
from domain.api_key import (
    PUBLIC_KEY_PREFIX,
    PUBLIC_KEY_SCOPES,
    SECRET_KEY_PREFIX,
    SECRET_KEY_SCOPES,
    ApiKey,
)
from domain.credential import AlreadyUsedError, credential_id
from domain.errors import AlreadyExistsError, WorkspaceNotFoundError
from domain.ids import new_id
from domain.invitation import INVITATION_PREFIX, Invitation
from domain.membership import Roster, roster_id
from domain.project_slug import SlugClaim, check_slug, slug_claim_id, slugify
from domain.user import User
from domain.workspace import Workspace

UPGRADE: Actor = {"key_id": None, "name": "slug upgrade"}  # assign_missing_slugs at start-up


def person(user: User) -> Actor:
    """A person as the actor of a change (keys and the admin are the others)."""
    return {"key_id": None, "name": f"user:{user.email}"}


class ProjectCommands(BeaconApplication):
    """Slugs, rosters and invitations of workspaces."""

    def _exists(self, aggregate_id: UUID) -> bool:
        try:
            self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return False
        return True

    def free_slug(self, name: str) -> str:
        """The slug derived from a name, with -2, -3… when it is taken."""
        base = slugify(name)
        slug, n = base, 1
        while self._exists(slug_claim_id(slug)):
            n += 1
            suffix = f"-{n}"
            slug = base[: 63 - len(suffix)].rstrip("-") + suffix
        return slug

    def found_workspace(self, *, name: str, plan: str, actor: Actor, slug: str | None,
                        workspace_id: UUID | None = None, extra: tuple[Any, ...] = ()) -> Workspace:
        """Create a workspace with its slug claimed (derived from the name unless given) and any
        `extra` aggregates, in one save. A given slug already taken is 409; a derived one retries."""
        chosen = check_slug(slug) if slug else None
        for _ in range(20):
            wanted = chosen or self.free_slug(name)
            workspace = Workspace.create(workspace_id=workspace_id or new_id(), name=name,
                                         plan=plan, actor=actor, slug=wanted)
            aggregates = [workspace, SlugClaim.claim(wanted, workspace.id),
                          *[make(workspace) for make in extra]]
            try:
                self.save(*aggregates)
            except RecordConflictError:
                if chosen or self._exists(workspace.id):
                    raise AlreadyExistsError(f"the slug {wanted!r} is taken") from None
                continue
            return workspace
        raise AlreadyExistsError("no free slug for this name; choose one")

    @retry_on_conflict
    def create_project(self, *, name: str, slug: str | None, owner: User,
                       plan: str = "free") -> tuple[Workspace, dict[str, tuple[ApiKey, str]]]:
        """A workspace whose owner is `owner`, with a public ingest key and a secret key, all in
        one save; the keys' tokens are returned once."""
        actor = person(owner)
        tokens = {"public": new_secret(PUBLIC_KEY_PREFIX), "secret": new_secret(SECRET_KEY_PREFIX)}
        scopes = {"public": PUBLIC_KEY_SCOPES, "secret": SECRET_KEY_SCOPES}
        keys: dict[str, ApiKey] = {}
        user: User = self.repository.get(owner.id)

        def key(kind: str) -> Any:
            def make(workspace: Workspace) -> ApiKey:
                keys[kind] = ApiKey.issue(workspace_id=workspace.id, name=f"{kind} key",
                                          scopes=scopes[kind], token=tokens[kind], actor=actor)
                return keys[kind]
            return make

        def roster(workspace: Workspace) -> Roster:
            members = Roster.open(workspace.id)
            members.add(user.id, user.email, "owner", actor)
            user.join(workspace.id)
            return members

        workspace = self.found_workspace(name=name, plan=plan, actor=actor, slug=slug, extra=(
            key("public"), key("secret"), roster, lambda _: user))
        return workspace, {kind: (keys[kind], tokens[kind]) for kind in keys}

    def resolve_workspace(self, ref: str) -> UUID:
        """A workspace id from an id or a slug; unknown or deleted either way is 404."""
        try:
            workspace_id = UUID(ref)
        except ValueError:
            try:
                claim: SlugClaim = self.repository.get(slug_claim_id(ref.lower()))
            except (AggregateNotFoundError, ValueError):
                raise WorkspaceNotFoundError("project not found") from None
            workspace_id = claim.workspace_id
        try:
            workspace: Workspace = self.repository.get(workspace_id, deepcopy_from_cache=False)
        except AggregateNotFoundError:
            raise WorkspaceNotFoundError("workspace not found") from None
        if workspace.deleted:  # its slug stays claimed, and leads nowhere
            raise WorkspaceNotFoundError("workspace not found")
        return workspace_id

    def assign_missing_slugs(self) -> int:
        """Give every workspace made before slugs one derived from its name (start-up, once)."""
        assigned, start = 0, 1
        while True:
            page = self.recorder.select_notifications(start=start, limit=500, topics=[
                "domain.workspace:Workspace.Created"])
            for notification in page:
                workspace: Workspace = self.repository.get(UUID(str(notification.originator_id)))
                if workspace.slug is None:
                    assigned += self._assign_slug(workspace.id)
            if len(page) < 500:
                return assigned
            start = page[-1].id + 1

    @retry_on_conflict
    def _assign_slug(self, workspace_id: UUID) -> int:
        workspace: Workspace = self.repository.get(workspace_id)
        if workspace.slug is not None:
            return 0
        slug = self.free_slug(workspace.name)
        workspace.assign_slug(slug, UPGRADE)
        self.save(workspace, SlugClaim.claim(slug, workspace.id))
        return 1

    def roster(self, workspace_id: UUID) -> Roster | None:
        try:
            roster: Roster = self.repository.get(roster_id(workspace_id))
        except AggregateNotFoundError:
            return None
        return roster

    def role_in(self, workspace_id: UUID, uid: UUID) -> str | None:
        roster = self.roster(workspace_id)
        return None if roster is None else roster.role_of(uid)

    @retry_on_conflict
    def add_member(self, workspace_id: UUID, user: User, role: str, actor: Actor) -> None:
        roster = self.roster(workspace_id) or Roster.open(workspace_id)
        user = self.repository.get(user.id)
        roster.add(user.id, user.email, role, actor)
        user.join(workspace_id)
        self.save(roster, user)

    @retry_on_conflict
    def change_role(self, workspace_id: UUID, uid: UUID, role: str, actor: Actor) -> None:
        roster = self._roster(workspace_id)
        roster.change_role(uid, role, actor)
        self.save(roster)

    @retry_on_conflict
    def remove_member(self, workspace_id: UUID, uid: UUID, actor: Actor) -> None:
        roster = self._roster(workspace_id)
        roster.remove(uid, actor)
        user: User = self.repository.get(uid)
        user.leave(workspace_id)
        self.save(roster, user)

    def _roster(self, workspace_id: UUID) -> Roster:
        roster = self.roster(workspace_id)
        if roster is None:
            return Roster.open(workspace_id)
        return roster

    def member_history(self, workspace_id: UUID) -> list[Any]:
        """Every membership event of a project, oldest first."""
        return list(self.repository.event_store.get(roster_id(workspace_id)))

    def invite(self, workspace_id: UUID, *, email: str, role: str,
               actor: Actor) -> tuple[Invitation, str]:
        """A single-use invitation, valid 7 days; its token is returned once (it goes in the link)."""
        token = new_secret(INVITATION_PREFIX)
        invitation = Invitation.issue(workspace_id=workspace_id, email=email, role=role,
                                      token=token, at=self.clock(), actor=actor)
        self.save(invitation)
        return invitation, token

    def invitation(self, token: str) -> Invitation:
        invitation_id = credential_id(INVITATION_PREFIX, token)
        try:
            invitation = self.repository.get(invitation_id) if invitation_id else None
        except AggregateNotFoundError:
            invitation = None
        if not isinstance(invitation, Invitation) or not invitation.matches(token):
            raise AlreadyUsedError("unknown or used invitation")
        return invitation

    def accept_invitation(self, token: str, user: User) -> Invitation:
        """Redeem an invitation for `user` (who must have its email): membership, in one save."""
        invitation = self.invitation(token)
        invitation.redeem(token, self.clock(), invitation.expires_at)
        user = self.repository.get(user.id)
        roster = self.roster(invitation.workspace_id) or Roster.open(invitation.workspace_id)
        actor: Actor = {"key_id": None, "name": f"invitation:{invitation.id}"}
        roster.add(user.id, user.email, invitation.role, actor)
        user.join(invitation.workspace_id)
        try:
            self.save(invitation, roster, user)
        except RecordConflictError:
            raise AlreadyUsedError("this invitation was used already") from None
        return invitation

