"""The API keys read model: a project's keys as its admins list them, never their secrets."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.api_key import ApiKey, shown_prefix
from projections.model import BIGINT, JSON, TEXT, Op, Patch, Projection, Table, Upsert, micros

API_KEYS = Table(
    name="rm_api_keys",
    columns={"id": TEXT, "workspace_id": TEXT, "name": TEXT, "scopes": JSON, "prefix": TEXT,
             "created_at": BIGINT, "created_by": TEXT, "revoked_at": BIGINT,
             "revoked_by": TEXT},
    primary_key=("id",),
    indexes=(("workspace_id", "created_at"),),
)


class ApiKeysProjection(Projection):
    name = "api_keys"
    source = "Workspaces"
    tables = (API_KEYS,)
    topics = (get_topic(ApiKey.Issued), get_topic(ApiKey.Revoked))

    def ops(self, event: Any) -> Iterable[Op]:
        if isinstance(event, ApiKey.Issued):
            yield Upsert(API_KEYS.name, {
                "id": str(event.originator_id), "workspace_id": str(event.workspace_id),
                "name": event.name, "scopes": list(event.scopes),
                "prefix": shown_prefix(event.token_prefix, event.lookup),
                "created_at": micros(event.timestamp), "created_by": event.actor["name"],
                "revoked_at": None, "revoked_by": None})
        elif isinstance(event, ApiKey.Revoked):
            yield Patch(API_KEYS.name, {"id": str(event.originator_id)},
                        {"revoked_at": micros(event.timestamp),
                         "revoked_by": event.actor["name"]})


class ApiKeyQueries(ABC):
    """What the keys API and GraphQL read."""

    @abstractmethod
    def keys_of(self, workspace_id: UUID) -> list[dict[str, Any]]:
        """The workspace's keys, revoked ones too, oldest first (times in microseconds)."""
