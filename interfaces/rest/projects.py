"""Projects (seed 004) and their people: create a project, invite, list and change members, and
the membership history. Every route resolves the project by id or slug, and a project the caller
is not a member of is 404."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import Field

from domain.membership import MemberNotFoundError, Roster
from interfaces.rest.admin import parse_id
from interfaces.rest.auth import projects_of
from interfaces.rest.deps import BeaconDep
from interfaces.rest.errors import Forbidden, Unauthorized
from interfaces.rest.identity import Member, SignedIn, member_of
from interfaces.rest.representations import envelope, iso, mark_position
from interfaces.rest.schemas import Body, Name, Plan

router = APIRouter(tags=["people"])
Role = Literal["viewer", "member", "admin", "owner"]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")]


class ProjectCreate(Body):
    name: Name
    slug: Slug | None = None


class ProjectUpdate(Body):
    plan: Plan


class ProjectDeletion(Body):
    confirm: Annotated[str, Field(max_length=255)] | None = None


class InvitationCreate(Body):
    email: Annotated[str, Field(min_length=3, max_length=254)]
    role: Role = "member"


class InvitationAccept(Body):
    token: Annotated[str, Field(min_length=1, max_length=256)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    name: Annotated[str, Field(max_length=255)] = ""


class MemberUpdate(Body):
    role: Role


@router.post("/api/projects", status_code=201)
def create_project(body: ProjectCreate, who: SignedIn, beacon: BeaconDep,
                   response: Response) -> dict:
    """A project owned by the caller, with a public ingest key (pk_live_…) and a secret key
    (sk_live_…), both shown in this response only."""
    workspace, keys = beacon.workspaces.create_project(name=body.name, slug=body.slug,
                                                       owner=who.user)
    mark_position(response)
    return envelope({
        "id": str(workspace.id), "slug": workspace.slug, "name": workspace.name,
        "plan": workspace.plan, "role": "owner", "created_at": iso(workspace.created_on),
        "keys": {kind: {"id": str(key.id), "scopes": key.scopes, "key": token}
                 for kind, (key, token) in keys.items()},
    })


@router.get("/api/projects")
def list_projects(who: SignedIn, beacon: BeaconDep) -> dict:
    """The caller's projects with their role in each."""
    return envelope(projects_of(beacon, who.user.id))


@router.patch("/api/projects/{project}")
def change_plan(project: str, body: ProjectUpdate, who: SignedIn, beacon: BeaconDep,
                response: Response) -> dict:
    """Move a project to another plan (owners only); its limits follow from the next request."""
    member = member_of(beacon, who, project, "own")
    workspace = beacon.workspaces.reconfigure_workspace(member.workspace_id, actor=who.actor,
                                                        plan=body.plan)
    mark_position(response)
    return envelope({"id": str(workspace.id), "slug": workspace.slug, "plan": workspace.plan,
                     "monthly_event_limit": workspace.monthly_event_limit,
                     "rate_limit_per_minute": workspace.rate_limit_per_minute})


@router.delete("/api/projects/{project}", status_code=204)
def delete_project(project: str, who: SignedIn, beacon: BeaconDep,
                   body: ProjectDeletion | None = None) -> Response:
    """Delete the project (owners only), typing its slug in `confirm`: its keys, members' access,
    pages and monitors stop at once and its read models are purged; its history is kept, and its
    slug is never given to another project."""
    member = member_of(beacon, who, project, "own")
    beacon.deletions.delete(member.workspace_id, actor=who.actor,
                            confirm=body.confirm if body else None)
    return Response(status_code=204)


def _guard_owners(member: Member, roster: Roster | None, user_id: UUID, role: str | None) -> None:
    """Only an owner makes, unmakes or removes an owner."""
    current = roster.role_of(user_id) if roster else None
    if "owner" in (current, role) and not member.allows("own"):
        raise Forbidden("only an owner can grant, change or remove the owner role")


def _user_id(value: str) -> UUID:
    return parse_id(value, MemberNotFoundError, "member")


@router.post("/api/v1/workspaces/{project}/invitations", status_code=201)
def invite(project: str, body: InvitationCreate, who: SignedIn, beacon: BeaconDep) -> dict:
    """Invite someone by email with a role: a single-use link valid 7 days, shown once."""
    member = member_of(beacon, who, project, "manage")
    if body.role == "owner" and not member.allows("own"):
        raise Forbidden("only an owner can invite an owner")
    invitation, token = beacon.workspaces.invite(member.workspace_id, email=body.email,
                                                 role=body.role, actor=who.actor)
    return envelope({"id": str(invitation.id), "email": invitation.email,
                     "role": invitation.role, "expires_at": iso(invitation.expires_at),
                     "token": token, "link": f"/invitations/accept?token={token}"})


@router.post("/api/invitations/accept")
def accept_invitation(body: InvitationAccept, beacon: BeaconDep) -> dict:
    """Accept an invitation: creates the user (with this password) if the email has none, or
    adds the membership to the existing user (whose password this must be)."""
    people = beacon.workspaces
    invitation = people.invitation(body.token)
    user = people.find_user(invitation.email)
    if user is None:
        user = people.create_user(email=invitation.email, password=body.password, name=body.name)
    elif people.check_login(invitation.email, body.password) is None:
        raise Unauthorized("wrong password for the invited email's account")
    people.accept_invitation(body.token, user)
    workspace = people.get_workspace(invitation.workspace_id)
    return envelope({"user": user.describe(), "project": {
        "id": str(workspace.id), "slug": workspace.slug, "name": workspace.name,
        "role": invitation.role}})


@router.get("/api/v1/workspaces/{project}/members")
def list_members(project: str, who: SignedIn, beacon: BeaconDep) -> dict:
    """The project's members and their roles."""
    member = member_of(beacon, who, project, "read")
    roster = beacon.workspaces.roster(member.workspace_id)
    return envelope(roster.members() if roster else [])


@router.patch("/api/v1/workspaces/{project}/members/{user_id}")
def change_role(project: str, user_id: str, body: MemberUpdate, who: SignedIn,
                beacon: BeaconDep) -> dict:
    """Change a member's role (admins and owners; only owners touch the owner role)."""
    member = member_of(beacon, who, project, "manage")
    uid = _user_id(user_id)
    _guard_owners(member, beacon.workspaces.roster(member.workspace_id), uid, body.role)
    beacon.workspaces.change_role(member.workspace_id, uid, body.role, who.actor)
    return envelope({"user_id": str(uid), "role": body.role})


@router.delete("/api/v1/workspaces/{project}/members/{user_id}", status_code=204)
def remove_member(project: str, user_id: str, who: SignedIn, beacon: BeaconDep) -> Response:
    """Remove a member from the project (a project keeps at least one owner)."""
    member = member_of(beacon, who, project, "manage")
    uid = _user_id(user_id)
    _guard_owners(member, beacon.workspaces.roster(member.workspace_id), uid, None)
    beacon.workspaces.remove_member(member.workspace_id, uid, who.actor)
    return Response(status_code=204)


def _history_entry(event: Any) -> dict[str, Any]:
    kind = type(event).__name__
    entry: dict[str, Any] = {"event": kind, "at": iso(event.timestamp),
                             "version": event.originator_version}
    for field in ("user_id", "email", "role", "before", "after", "actor"):
        if hasattr(event, field):
            entry[field] = getattr(event, field)
    return entry


@router.get("/api/v1/workspaces/{project}/members/history")
def member_history(project: str, who: SignedIn, beacon: BeaconDep) -> dict:
    """Every membership and role change of the project, oldest first, with who made it."""
    member = member_of(beacon, who, project, "manage")
    events = beacon.workspaces.member_history(member.workspace_id)
    return envelope([_history_entry(e) for e in events if type(e).__name__ != "Opened"])


