"""The workspaces context: tenants and their API keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from application.base import BeaconApplication, retry_on_conflict
from application.deletions import DeletionCommands
from application.people import PeopleCommands, new_secret
from application.projects import ProjectCommands
from domain.actor import Actor
from domain.api_key import KEY_PREFIX, ApiKey, api_key_id, lookup_of
from domain.errors import ApiKeyNotFoundError, WorkspaceNotFoundError
from domain.membership import MemberAccess
from domain.workspace import Workspace


@dataclass(frozen=True)
class Principal:
    """Who is calling: an unrevoked key (or a signed-in member's access) and its workspace."""

    key: ApiKey | MemberAccess
    workspace: Workspace

    @property
    def workspace_id(self) -> UUID:
        return self.workspace.id

    @property
    def actor(self) -> Actor:
        return self.key.as_actor()


def new_token(prefix: str = KEY_PREFIX) -> str:
    """A fresh API key: its prefix and 256 random bits, URL-safe."""
    return new_secret(prefix)


class WorkspacesApplication(PeopleCommands, ProjectCommands, DeletionCommands, BeaconApplication):
    """Tenants and their keys, and the people and projects of DESIGN.md decision 11."""

    name = "Workspaces"

    def create_workspace(self, *, name: str, plan: str, actor: Actor,
                         workspace_id: UUID | None = None, slug: str | None = None) -> Workspace:
        """A workspace with its slug (derived from the name unless given)."""
        return self.found_workspace(name=name, plan=plan, actor=actor, slug=slug,
                                    workspace_id=workspace_id)

    def get_workspace(self, workspace_id: UUID) -> Workspace:
        """A workspace; a deleted one is not found, like one that never was."""
        return self._live_workspace(workspace_id)

    def slug_of(self, workspace_id: UUID) -> str | None:
        """A live workspace's slug (where the dashboard shows it); None for a deleted one."""
        try:
            return self.get_workspace(workspace_id).slug
        except WorkspaceNotFoundError:
            return None

    @retry_on_conflict
    def reconfigure_workspace(self, workspace_id: UUID, *, actor: Actor,
                              **changes: Any) -> Workspace:
        workspace = self.get_workspace(workspace_id)
        workspace.reconfigure(actor=actor, **changes)
        self.save(workspace)
        return workspace

    def issue_key(self, workspace_id: UUID, *, name: str, scopes: list[str],
                  actor: Actor, prefix: str = KEY_PREFIX) -> tuple[ApiKey, str]:
        """Issue a key; the plain token is returned once and never stored."""
        self.get_workspace(workspace_id)
        while True:
            token = new_token(prefix)
            key = ApiKey.issue(workspace_id=workspace_id, name=name, scopes=scopes,
                               token=token, actor=actor)
            try:
                self.save(key)
            except RecordConflictError:
                continue  # a lookup prefix collision: astronomically rare, draw again
            return key, token

    def get_key(self, workspace_id: UUID, key_id: UUID) -> ApiKey:
        key: ApiKey = self.load(key_id, ApiKeyNotFoundError, "api key", workspace_id=workspace_id,
                               kind=ApiKey)
        return key

    @retry_on_conflict
    def revoke_key(self, workspace_id: UUID, key_id: UUID, *, actor: Actor) -> None:
        key = self.get_key(workspace_id, key_id)
        key.revoke(actor)
        self.save(key)

    def authenticate(self, token: str) -> Principal | None:
        """The principal behind a presented token, or None for unknown, wrong or revoked keys.

        Every call reads the key's and the workspace's latest events (the cache fast-forwards), so
        a revocation or a plan or limit change made by any process holds from the next request.
        The principal's aggregates are the cache's own objects, not copies (copies cost time on
        every request): read them, never call their commands.
        """
        lookup = lookup_of(token)
        if lookup is None:
            return None
        try:
            key: ApiKey = self.repository.get(api_key_id(lookup), deepcopy_from_cache=False)
        except AggregateNotFoundError:
            return None
        if key.revoked or not key.matches(token):
            return None
        try:
            workspace: Workspace = self.repository.get(key.workspace_id, deepcopy_from_cache=False)
        except AggregateNotFoundError:
            raise WorkspaceNotFoundError("workspace not found") from None
        if workspace.deleted:
            return None  # a deleted project's keys stop working at once
        return Principal(key=key, workspace=workspace)
