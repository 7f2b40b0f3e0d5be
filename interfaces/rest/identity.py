"""Who is calling, when it is a person: a session cookie or a CLI access token, and their role.

DESIGN.md decision 11: a person's role in a project authorises what a key of the same scope would,
never more. Another project's data answers 404, as for keys. Keys stay in deps.py; a route that
wants both (a deploy: a secret key plus a signed-in person) asks for `SecretKey` and `SignedIn`.
Endpoints made for keys (`Writer`, `Reader`…) also take a signed-in member who names the project in
`X-Beacon-Project` (id or slug): `member_principal` gives them their role's scopes there.

Cookie-authenticated writes carry a CSRF token in the `X-CSRF-Token` header: the value of the
`beacon_csrf` cookie, which is derived from the session token (so another site can neither read
nor forge it). Bearer tokens are never sent by a browser on its own, so they need none.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request

from application.projects import person
from application.workspaces import Principal
from domain.actor import Actor
from domain.credential import ACCESS_TOKEN_PREFIX, AccessToken, LoginSession
from domain.errors import WorkspaceNotFoundError
from domain.membership import MemberAccess, role_allows
from domain.user import User
from interfaces.bootstrap import Beacon
from interfaces.rest.beacon_request import BeaconDep, bearer_token
from interfaces.rest.errors import BadRequest, Forbidden, Unauthorized

SESSION_COOKIE = "beacon_session"
CSRF_COOKIE = "beacon_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def csrf_token_for(session_token: str) -> str:
    """The CSRF token that goes with a session: a keyed hash of it, so it cannot be planted."""
    return hmac.new(session_token.encode(), b"beacon csrf", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Person:
    """A signed-in user, by session cookie or by CLI access token (then `session` is None)."""

    user: User
    session: LoginSession | None = None
    access_token: AccessToken | None = None

    @property
    def actor(self) -> Actor:
        return person(self.user)


@dataclass(frozen=True)
class Member:
    """A person inside one project, with their role there."""

    person: Person
    workspace_id: UUID
    role: str

    def allows(self, permission: str) -> bool:
        return role_allows(self.role, permission)


def find_person(request: Request, beacon: Beacon) -> Person | None:
    """The person behind the request, None if it carries no person's credential, 401 if it
    carries a wrong or expired one, 403 for a cookie write without its CSRF token (a POST that
    only reads, like /api/query or GraphQL, sets request.state.reads_only)."""
    people = beacon.workspaces
    token = bearer_token(request)
    if token is not None and token.startswith(ACCESS_TOKEN_PREFIX):
        access = people.access_token_for(token)
        if access is None:
            raise Unauthorized("unknown or revoked access token: run `beacon login` again")
        return Person(user=people.get_user(access.user_id), access_token=access)
    cookie = request.cookies.get(SESSION_COOKIE)
    if token is not None or not cookie:
        return None  # a key (or nothing): deps.py's business
    session = people.session_for(cookie)
    if session is None:
        raise Unauthorized("the session has expired or was signed out: sign in again")
    reads_only = getattr(request.state, "reads_only", False)
    if request.method not in SAFE_METHODS and not reads_only:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent, csrf_token_for(cookie)):
            raise Forbidden("missing or wrong CSRF token: send the beacon_csrf cookie's value "
                            "in the X-CSRF-Token header")
    return Person(user=people.get_user(session.user_id), session=session)


def current_person(request: Request, beacon: BeaconDep) -> Person:
    found = find_person(request, beacon)
    if found is None:
        raise Unauthorized("sign in first: a session cookie or a CLI access token is needed")
    return found


SignedIn = Annotated[Person, Depends(current_person)]


def member_of(beacon: Beacon, who: Person, project: str, permission: str = "read") -> Member:
    """`who` in the project named by id or slug: 404 unless a member, 403 if the role falls
    short of `permission` (read, write, deploy, manage, own)."""
    workspace_id = beacon.workspaces.resolve_workspace(project)
    role = beacon.workspaces.role_in(workspace_id, who.user.id)
    if role is None:
        raise WorkspaceNotFoundError("project not found")
    member = Member(person=who, workspace_id=workspace_id, role=role)
    if not member.allows(permission):
        raise Forbidden(f"a {role} cannot {permission} in this project")
    return member


PROJECT_HEADER = "x-beacon-project"


def member_principal(request: Request, beacon: Beacon) -> Principal:
    """A signed-in member as the caller of an endpoint made for keys: the project comes from the
    X-Beacon-Project header (id or slug; /api/query's projectId instead), the scopes from the
    member's role there."""
    who = find_person(request, beacon)
    if who is None:
        raise Unauthorized("missing API key: send Authorization: Bearer <key> (or a session "
                           "cookie with X-Beacon-Project)")
    project = getattr(request.state, "project", None) or request.headers.get(PROJECT_HEADER)
    if not project:
        raise BadRequest("a signed-in person names the project in the X-Beacon-Project header")
    member = member_of(beacon, who, project, "read")
    access = MemberAccess(id=who.user.id, email=who.user.email, role=member.role)
    return Principal(key=access, workspace=beacon.workspaces.get_workspace(member.workspace_id))
