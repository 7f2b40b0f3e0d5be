"""People's sign-in: login and logout with a session cookie, who am I, sessions, passwords.

Login answers the same for an unknown email and a wrong password, in the same time (an unknown
email still costs one Argon2 verification), and throttles failures: 10 per account and 10 per
client address in 15 minutes, then 429 with Retry-After, whether the account exists or not.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import Field

from domain.credential import LoginSession
from domain.errors import NotFoundError
from interfaces.bootstrap import Beacon
from interfaces.rest.admin import parse_id
from interfaces.rest.deps import BeaconDep
from interfaces.rest.errors import RateLimited, Unauthorized
from interfaces.rest.identity import CSRF_COOKIE, SESSION_COOKIE, SignedIn, csrf_token_for
from interfaces.rest.representations import envelope, iso
from interfaces.rest.schemas import Body

router = APIRouter(prefix="/api/auth", tags=["people"])
FAILURES_ALLOWED, FAILURE_WINDOW_SECONDS = 10, 15 * 60


class Login(Body):
    email: Annotated[str, Field(min_length=1, max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class PasswordChange(Body):
    current_password: Annotated[str, Field(min_length=1, max_length=1024)]
    new_password: Annotated[str, Field(min_length=1, max_length=1024)]


def throttle_keys(request: Request, email: str) -> list[str]:
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    address = request.client.host if request.client else "unknown"
    return [f"login-failures:account:{account}", f"login-failures:address:{address}"]


def check_throttle(beacon: Beacon, keys: list[str]) -> None:
    for key in keys:
        decision = beacon.limiter.peek(key, FAILURES_ALLOWED, FAILURE_WINDOW_SECONDS)
        if not decision.allowed:
            raise RateLimited("too many failed sign-ins: wait before trying again",
                              headers={"Retry-After": str(decision.retry_after)})


def set_session_cookies(response: Response, beacon: Beacon, token: str) -> str:
    """The session cookie (HttpOnly) and its CSRF twin (readable by the page's script)."""
    secure = beacon.settings.env != "development"
    max_age = int(LoginSession.ABSOLUTE.total_seconds())
    csrf = csrf_token_for(token)
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, secure=secure,
                        samesite="lax", path="/")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, secure=secure,
                        samesite="lax", path="/")
    return csrf


def projects_of(beacon: Beacon, user_id: UUID) -> list[dict[str, Any]]:
    """The projects a user belongs to (deleted ones left out), with their role in each."""
    people = beacon.workspaces
    projects = []
    for workspace_id in people.get_user(user_id).workspace_ids:
        try:
            workspace = people.get_workspace(workspace_id)
        except NotFoundError:
            continue  # deleted: gone from every list, though the membership's history stays
        projects.append({"id": str(workspace.id), "slug": workspace.slug, "name": workspace.name,
                         "plan": workspace.plan, "role": people.role_in(workspace_id, user_id)})
    return projects


@router.post("/login")
def login(body: Login, request: Request, response: Response, beacon: BeaconDep) -> dict:
    """Sign in with email and password; sets the session and CSRF cookies."""
    keys = throttle_keys(request, body.email)
    check_throttle(beacon, keys)
    user = beacon.workspaces.check_login(body.email, body.password)
    if user is None:
        for key in keys:
            beacon.limiter.hit(key, FAILURES_ALLOWED, FAILURE_WINDOW_SECONDS)
        raise Unauthorized("wrong email or password")
    _, token = beacon.workspaces.start_session(user.id, request.headers.get("user-agent", ""))
    csrf = set_session_cookies(response, beacon, token)
    return envelope({"user": user.describe(), "csrf_token": csrf})


@router.post("/logout", status_code=204)
def logout(who: SignedIn, beacon: BeaconDep) -> Response:
    """End this session and clear its cookies."""
    response = Response(status_code=204)
    if who.session is not None:
        beacon.workspaces.end_session(who.user.id, who.session.id)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/me")
def me(who: SignedIn, beacon: BeaconDep) -> dict:
    """The signed-in user and their projects with their role in each."""
    return envelope({"user": who.user.describe(), "projects": projects_of(beacon, who.user.id)})


@router.get("/sessions")
def list_sessions(who: SignedIn, beacon: BeaconDep) -> dict:
    """The user's live sessions; `current` marks the one making this request."""
    current = who.session.id if who.session else None
    return envelope([{"id": str(s.id), "started_at": iso(s.started_at),
                      "last_seen_at": iso(s.last_seen_at), "user_agent": s.user_agent,
                      "current": s.id == current}
                     for s in beacon.workspaces.sessions_of(who.user.id)])


@router.delete("/sessions/{session_id}", status_code=204)
def revoke_session(session_id: str, who: SignedIn, beacon: BeaconDep) -> Response:
    """Sign one of the user's sessions out (another user's is 404)."""
    sid = parse_id(session_id, NotFoundError, "session")
    beacon.workspaces.end_session(who.user.id, sid, "revoked")
    return Response(status_code=204)


@router.post("/password", status_code=204)
def change_password(body: PasswordChange, who: SignedIn, beacon: BeaconDep) -> Response:
    """Change the password; every other session of the user ends."""
    beacon.workspaces.change_password(
        who.user.id, current=body.current_password, new=body.new_password,
        keep_session=who.session.id if who.session else None)
    return Response(status_code=204)
