"""CLI sign-in (seed 004): a signed-in person makes a one-time code, `beacon login` trades it for
an access token bound to that person; the tokens are listed with their last use and revocable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import Field

from application.people import CredentialNotFoundError
from interfaces.rest.admin import parse_id
from interfaces.rest.deps import BeaconDep
from interfaces.rest.identity import SignedIn
from interfaces.rest.representations import envelope, iso
from interfaces.rest.schemas import Body

router = APIRouter(prefix="/api/cli", tags=["people"])


class Exchange(Body):
    token: Annotated[str, Field(min_length=1, max_length=256)]
    name: Annotated[str, Field(min_length=1, max_length=255)] = "beacon CLI"


@router.post("/tokens", status_code=201)
def create_code(who: SignedIn, beacon: BeaconDep) -> dict:
    """A one-time code for `beacon login`, valid 10 minutes, shown once."""
    code, token = beacon.workspaces.issue_cli_code(who.user.id)
    return envelope({"token": token, "expires_at": iso(code.expires_at)})


@router.post("/validate")
def validate(body: Exchange, beacon: BeaconDep) -> dict:
    """Exchange a code once for an access token (a second exchange is 400, a late one 410)."""
    access, token = beacon.workspaces.exchange_cli_code(body.token, body.name)
    user = beacon.workspaces.get_user(access.user_id)
    return envelope({"access_token": token, "token_type": "bearer", "id": str(access.id),
                     "user": user.describe()})


@router.get("/access-tokens")
def list_access_tokens(who: SignedIn, beacon: BeaconDep) -> dict:
    """The user's access tokens with their last use (never the tokens themselves)."""
    return envelope([{"id": str(t.id), "name": t.name, "issued_at": iso(t.issued_at),
                      "last_used_at": iso(t.last_used_at), "revoked": t.ended is not None}
                     for t in beacon.workspaces.access_tokens_of(who.user.id)])


@router.delete("/access-tokens/{token_id}", status_code=204)
def revoke_access_token(token_id: str, who: SignedIn, beacon: BeaconDep) -> Response:
    """Revoke one of the user's access tokens; it is refused from the next request on."""
    tid = parse_id(token_id, CredentialNotFoundError, "access token")
    beacon.workspaces.revoke_access_token(who.user.id, tid)
    return Response(status_code=204)
