"""Dependencies shared by the routers: the Beacon instance, who is calling, read-your-writes."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, Request, Response
from starlette.requests import HTTPConnection

from application.workspaces import Principal
from domain.credential import ACCESS_TOKEN_PREFIX
from domain.errors import DomainError, WorkspaceNotFoundError
from domain.numerals import is_numeral
from infrastructure.rate_limits import Decision
from interfaces.bootstrap import Beacon
from interfaces.rest.beacon_request import BeaconDep, bearer_token
from interfaces.rest.errors import ApiError, BadRequest, Forbidden, RateLimited, Unauthorized
from interfaces.rest.identity import member_principal


def authenticate(request: HTTPConnection, beacon: Beacon, token: str | None,
                 per_minute: int | None = None) -> Principal:
    """Authenticate a key, enforce the workspace's IP allowlist and the key's rate limit
    (the plan's, unless the endpoint has its own `per_minute`)."""
    if token is None:
        raise Unauthorized("missing API key: send Authorization: Bearer <key>")
    principal = beacon.workspaces.authenticate(token)
    if principal is None:
        raise Unauthorized("unknown or revoked API key")
    return admit(request, beacon, principal, per_minute)


def admit(request: HTTPConnection, beacon: Beacon, principal: Principal,
          per_minute: int | None = None) -> Principal:
    """The workspace's IP allowlist and the caller's rate limit, for keys and members alike."""
    request.state.workspace_id = str(principal.workspace_id)
    allowlist = principal.workspace.ip_allowlist
    if allowlist and not _allowed(request, allowlist):
        raise Forbidden("this address is not in the workspace's IP allowlist")
    limit = per_minute or principal.workspace.rate_limit_per_minute or 1
    enforce(beacon, f"key:{principal.key.id}", limit, "rate limit exceeded", shown_on=request)
    return principal


def enforce(beacon: Beacon, key: str, per_minute: int, message: str,
            shown_on: HTTPConnection | None = None) -> Decision:
    """Count one request against `key`'s limit a minute; past it, 429 with Retry-After. The
    limit `shown_on` a request is in its X-RateLimit-* headers, the 429 included."""
    decision = beacon.limiter.hit(key, per_minute)
    if shown_on is not None:
        shown_on.state.rate_limit = decision
    if not decision.allowed:
        raise RateLimited(message, headers={"Retry-After": str(decision.retry_after)})
    return decision


def _allowed(request: HTTPConnection, allowlist: list[str]) -> bool:
    try:
        address = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(entry) for entry in allowlist)


def principal_with(*scopes: str, people: bool = True) -> Callable[..., Principal]:
    """A dependency admitting keys that hold any of `scopes` (403 for other valid keys) and,
    unless `people` is False, signed-in members whose role there grants one of them."""

    def dependency(request: Request, beacon: BeaconDep) -> Principal:
        token = bearer_token(request)
        if people and (token is None or token.startswith(ACCESS_TOKEN_PREFIX)):
            principal = admit(request, beacon, member_principal(request, beacon))
        else:
            principal = authenticate(request, beacon, token)
        if not any(principal.key.allows(scope) for scope in scopes):
            raise Forbidden(f"this key lacks the {' or '.join(scopes)} scope")
        return principal

    return dependency


def authorize_key(connection: HTTPConnection, beacon: Beacon, token: str | None,
                  *scopes: str) -> Principal:
    """Authenticate a key (not a person) and require one of `scopes` (403 for other keys)."""
    principal = authenticate(connection, beacon, token)
    if not any(principal.key.allows(scope) for scope in scopes):
        raise Forbidden(f"this key lacks the {' or '.join(scopes)} scope")
    return principal


def still_signed_in(request: Request, beacon: Beacon) -> bool:
    """Whether the caller of a long-lived request may still read: its key is not revoked, or
    (a person) its session and membership hold. Neither counts against a rate limit."""
    token = bearer_token(request)
    if token is not None and not token.startswith(ACCESS_TOKEN_PREFIX):
        return beacon.workspaces.authenticate(token) is not None
    from interfaces.rest.identity import member_principal  # identity builds on this module

    try:
        member_principal(request, beacon)
    except (ApiError, DomainError):
        return False
    return True


Writer = Annotated[Principal, Depends(principal_with("write"))]
Ingester = Annotated[Principal, Depends(principal_with("ingest"))]
AnyKey = Annotated[Principal, Depends(principal_with("ingest", "read", "write"))]
Reader = Annotated[Principal, Depends(principal_with("read", "write"))]
IfMatch = Annotated[str | None, Header(alias="If-Match")]


def require_admin(request: Request, beacon: BeaconDep) -> None:
    expected = beacon.settings.admin_token
    token = bearer_token(request)
    # As bytes: compare_digest refuses str with non-ASCII characters, and a header can carry any.
    if not expected or token is None or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Unauthorized("missing or wrong admin token")


Admin = Depends(require_admin)


def consistent_read(request: Request, response: Response, beacon: BeaconDep) -> None:
    """Honour X-Beacon-Min-Position: wait (bounded) until read models include that write."""
    wanted = request.headers.get("x-beacon-min-position")
    if not wanted:
        return
    source, _, position = wanted.rpartition(":")
    if source not in beacon.applications or not is_numeral(position):
        raise BadRequest("X-Beacon-Min-Position must look like '<Application>:<position>'")
    if not beacon.wait_for(source, int(position), beacon.settings.read_wait_seconds):
        response.headers["X-Beacon-Stale"] = "true"


ConsistentRead = Depends(consistent_read)


def readable_project(request: Request, beacon: Beacon, project: str) -> UUID:
    """The project a read may see, named by id or slug: a read (or write) key's own, or one the
    signed-in member belongs to (with the same allowlist and rate limit). Any other is 404."""
    request.state.reads_only = True  # the caller only reads: a member's cookie needs no CSRF token
    request.state.project = project
    principal = principal_with("read", "write")(request, beacon)
    if beacon.workspaces.resolve_workspace(project) != principal.workspace_id:
        raise WorkspaceNotFoundError("no such project for this key")
    return principal.workspace_id


# A secret key (sk_live_…, or any key with the deploy scope), for deploys and management; a
# person's session is not a key here, whatever their role (a deploy asks for both).
SecretKey = Annotated[Principal, Depends(principal_with("deploy", people=False))]
