"""The workspaces context: tenants and their API keys."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from application.base import BeaconApplication, retry_on_conflict
from domain.actor import Actor
from domain.api_key import KEY_PREFIX, ApiKey, api_key_id, lookup_of
from domain.errors import ApiKeyNotFoundError, WorkspaceNotFoundError
from domain.ids import new_id
from domain.workspace import Workspace


@dataclass(frozen=True)
class Principal:
    """Who is calling: an unrevoked key and the workspace it belongs to."""

    key: ApiKey
    workspace: Workspace

    @property
    def workspace_id(self) -> UUID:
        return self.workspace.id

    @property
    def actor(self) -> Actor:
        return self.key.as_actor()


def new_token() -> str:
    """A fresh API key: a fixed prefix and 256 random bits, URL-safe."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


class WorkspacesApplication(BeaconApplication):
    name = "Workspaces"

    def create_workspace(self, *, name: str, plan: str, actor: Actor,
                         workspace_id: UUID | None = None) -> Workspace:
        workspace = Workspace.create(workspace_id=workspace_id or new_id(), name=name,
                                     plan=plan, actor=actor)
        self.save(workspace)
        return workspace

    def get_workspace(self, workspace_id: UUID) -> Workspace:
        workspace: Workspace = self.load(workspace_id, WorkspaceNotFoundError, "workspace")
        return workspace

    @retry_on_conflict
    def reconfigure_workspace(self, workspace_id: UUID, *, actor: Actor,
                              **changes: Any) -> Workspace:
        workspace = self.get_workspace(workspace_id)
        workspace.reconfigure(actor=actor, **changes)
        self.save(workspace)
        return workspace

    def issue_key(self, workspace_id: UUID, *, name: str, scopes: list[str],
                  actor: Actor) -> tuple[ApiKey, str]:
        """Issue a key; the plain token is returned once and never stored."""
        self.get_workspace(workspace_id)
        while True:
            token = new_token()
            key = ApiKey.issue(workspace_id=workspace_id, name=name, scopes=scopes,
                               token=token, actor=actor)
            try:
                self.save(key)
            except RecordConflictError:
                continue  # a lookup prefix collision: astronomically rare, draw again
            return key, token

    def get_key(self, workspace_id: UUID, key_id: UUID) -> ApiKey:
        key: ApiKey = self.load(key_id, ApiKeyNotFoundError, "api key", workspace_id=workspace_id)
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
        return Principal(key=key, workspace=workspace)
