"""The project's people, its keys and its configuration's history, for the settings page."""

from __future__ import annotations

from datetime import datetime

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.scalars import JSON

from domain.time import from_micros
from interfaces.graphql.context import Ctx
from interfaces.graphql.history import Actor
from interfaces.rest.errors import Forbidden


@strawberry.type(description="A person in this project, with their role.")
class Member:
    user_id: strawberry.ID
    email: str
    role: str = strawberry.field(description="owner, admin, member or viewer")


@strawberry.type(description="An API key of this project: how to recognise it, never its secret.")
class ApiKey:
    id: strawberry.ID
    name: str
    scopes: list[str]
    prefix: str = strawberry.field(description="The key's kind and first characters, e.g. "
                                               "sk_live_AbC123…")
    created_at: datetime
    created_by: str = strawberry.field(description="Who issued it: user:<email>, or admin.")
    revoked_at: datetime | None
    revoked_by: str | None


@strawberry.type(description="One deploy of beacon.yml: who, when, and what it changed.")
class Deploy:
    version: int
    author: Actor
    deployed_at: datetime
    diff: JSON
    rolled_back_from: int | None = strawberry.field(
        description="The version deployed again, when this deploy is a rollback.")


async def members(info: Ctx) -> list[Member]:
    """The project's members and their roles, by email."""
    ctx = info.context
    roster = await run_in_threadpool(ctx.beacon.workspaces.roster, ctx.workspace_id)
    return [Member(user_id=strawberry.ID(str(m["user_id"])), email=m["email"], role=m["role"])
            for m in (roster.members() if roster else [])]


async def api_keys(info: Ctx) -> list[ApiKey]:
    """The project's API keys, revoked ones too, oldest first (for those who manage keys: an
    admin, an owner, or a key with the manage scope)."""
    ctx = info.context
    if not ctx.principal.key.allows("manage"):
        raise Forbidden("API keys are for those who manage them (admins and owners)")
    rows = await run_in_threadpool(ctx.beacon.api_keys.keys_of, ctx.workspace_id)
    return [ApiKey(id=strawberry.ID(row["id"]), name=row["name"], scopes=row["scopes"],
                   prefix=row["prefix"], created_at=from_micros(row["created_at"]),
                   created_by=row["created_by"], revoked_at=from_micros(row["revoked_at"]),
                   revoked_by=row["revoked_by"])
            for row in rows]


async def deploys(info: Ctx) -> list[Deploy]:
    """Every deploy of the project's configuration, newest first (for keys or members that may
    deploy: a secret key, an admin or an owner)."""
    ctx = info.context
    if not ctx.principal.key.allows("deploy"):
        raise Forbidden("deploy history is for those who may deploy (admins and owners)")
    configuration = await run_in_threadpool(ctx.beacon.configuration.configuration, ctx.workspace_id)
    return [Deploy(version=d["version"], author=Actor(key_id=d["author"].get("key_id"),
                                                      name=d["author"]["name"]),
                   deployed_at=d["deployed_at"], diff=d["diff"],
                   rolled_back_from=d["rolled_back_from"])
            for d in reversed(configuration.deploys)]
