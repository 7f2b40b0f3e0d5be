"""A project's API keys for its admins: list, create (the secret shown once) and revoke.

People manage keys here with their session (and its CSRF token) or a CLI access token; the admin
token has its own routes (admin.py). The list reads the keys read model (projections/api_keys.py),
so a list right after a write sends the write's position back (X-Beacon-Min-Position) to see it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import Field

from domain.api_key import PUBLIC_KEY_PREFIX, PUBLIC_KEY_SCOPES, SECRET_KEY_PREFIX, shown_prefix
from domain.errors import ApiKeyNotFoundError
from domain.time import from_micros
from interfaces.rest.admin import parse_id
from interfaces.rest.deps import BeaconDep, ConsistentRead
from interfaces.rest.identity import SignedIn, member_of
from interfaces.rest.representations import envelope, iso, mark_position
from interfaces.rest.schemas import Body, Name, Scope

router = APIRouter(prefix="/api/v1/workspaces/{project}/keys", tags=["people"])


class ProjectKeyCreate(Body):
    name: Name
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=5)]


def key_json(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "scopes": row["scopes"],
            "prefix": row["prefix"], "created_at": iso(from_micros(row["created_at"])),
            "created_by": row["created_by"], "revoked": row["revoked_at"] is not None,
            "revoked_at": iso(from_micros(row["revoked_at"])), "revoked_by": row["revoked_by"]}


@router.get("", dependencies=[ConsistentRead])
def list_keys(project: str, who: SignedIn, beacon: BeaconDep) -> dict:
    """The project's keys, revoked ones too, oldest first; never their secrets (admins, owners)."""
    member = member_of(beacon, who, project, "manage")
    return envelope([key_json(row) for row in beacon.api_keys.keys_of(member.workspace_id)])


@router.post("", status_code=201)
def create_key(project: str, body: ProjectKeyCreate, who: SignedIn, beacon: BeaconDep,
               response: Response) -> dict:
    """A new key with these scopes: `pk_live_…` for ingest alone (safe in a browser or an app),
    `sk_live_…` otherwise. The key itself is in this response only."""
    member = member_of(beacon, who, project, "manage")
    scopes: list[str] = list(body.scopes)
    prefix = PUBLIC_KEY_PREFIX if sorted(set(scopes)) == PUBLIC_KEY_SCOPES else SECRET_KEY_PREFIX
    key, token = beacon.workspaces.issue_key(member.workspace_id, name=body.name, scopes=scopes,
                                             actor=who.actor, prefix=prefix)
    mark_position(response)
    return envelope({"id": str(key.id), "name": key.name, "scopes": key.scopes,
                     "prefix": shown_prefix(prefix, key.lookup), "key": token,
                     "created_at": iso(key.created_on), "created_by": who.actor["name"],
                     "revoked": False})


@router.delete("/{key_id}", status_code=204)
def revoke_key(project: str, key_id: str, who: SignedIn, beacon: BeaconDep) -> Response:
    """Revoke a key: refused (401) from the next request on. Another project's key is 404."""
    member = member_of(beacon, who, project, "manage")
    beacon.workspaces.revoke_key(member.workspace_id,
                                 parse_id(key_id, ApiKeyNotFoundError, "api key"), actor=who.actor)
    response = Response(status_code=204)
    mark_position(response)
    return response
