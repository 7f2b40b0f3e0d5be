"""Admin API: workspaces, their keys and pages, behind the admin token."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from domain.actor import ADMIN
from domain.errors import ApiKeyNotFoundError
from domain.workspace import Workspace
from interfaces.rest.deps import Admin, BeaconDep
from interfaces.rest.representations import envelope, iso, mark_position
from interfaces.rest.schemas import KeyCreate, PageCreate, WorkspaceCreate, WorkspaceUpdate

router = APIRouter(prefix="/admin/v1", tags=["admin"], dependencies=[Admin])


def workspace_json(workspace: Workspace) -> dict[str, Any]:
    return {"id": str(workspace.id), "slug": workspace.slug, "name": workspace.name,
            "plan": workspace.plan,
            "monthly_event_limit": workspace.monthly_event_limit,
            "rate_limit_per_minute": workspace.rate_limit_per_minute,
            "ip_allowlist": workspace.ip_allowlist,
            "store_ip": getattr(workspace, "store_ip", False), "created_at": iso(workspace.created_on)}


def parse_id(value: str, error: type[Exception], what: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise error(f"{what} not found") from None


@router.post("/workspaces", status_code=201)
def create_workspace(body: WorkspaceCreate, beacon: BeaconDep, response: Response) -> dict:
    """Create a workspace on a plan (its limits start from the plan) with a slug, given or
    derived from the name; a taken slug is 409."""
    workspace = beacon.workspaces.create_workspace(name=body.name, plan=body.plan, actor=ADMIN,
                                                   slug=body.slug)
    mark_position(response)
    return envelope(workspace_json(workspace))


@router.get("/workspaces/{workspace_id}")
def get_workspace(workspace_id: str, beacon: BeaconDep) -> dict:
    """A workspace's plan, limits and allowlist."""
    ws_id = beacon.workspaces.resolve_workspace(workspace_id)
    return envelope(workspace_json(beacon.workspaces.get_workspace(ws_id)))


@router.patch("/workspaces/{workspace_id}")
def update_workspace(workspace_id: str, body: WorkspaceUpdate, beacon: BeaconDep,
                     response: Response) -> dict:
    """Change plan, limits or IP allowlist; takes effect on the next request."""
    ws_id = beacon.workspaces.resolve_workspace(workspace_id)
    workspace = beacon.workspaces.reconfigure_workspace(ws_id, actor=ADMIN, **body.given())
    mark_position(response)
    return envelope(workspace_json(workspace))


@router.delete("/workspaces/{workspace_id}", status_code=204)
def delete_workspace(workspace_id: str, beacon: BeaconDep) -> Response:
    """Delete a workspace (no confirmation: the admin token is the operator's); as
    DELETE /api/projects/{id} does for an owner."""
    ws_id = beacon.workspaces.resolve_workspace(workspace_id)
    beacon.deletions.delete(ws_id, actor=ADMIN, confirmed=True)
    return Response(status_code=204)


@router.post("/workspaces/{workspace_id}/keys", status_code=201)
def create_key(workspace_id: str, body: KeyCreate, beacon: BeaconDep) -> dict:
    """Issue an API key. The key itself is shown in this response only."""
    ws_id = beacon.workspaces.resolve_workspace(workspace_id)
    key, token = beacon.workspaces.issue_key(ws_id, name=body.name, scopes=list(body.scopes),
                                             actor=ADMIN)
    return envelope({"id": str(key.id), "name": key.name, "scopes": key.scopes, "key": token})


@router.delete("/workspaces/{workspace_id}/keys/{key_id}", status_code=204)
def revoke_key(workspace_id: str, key_id: str, beacon: BeaconDep) -> Response:
    """Revoke a key; it is refused from the next request on."""
    ws_id = beacon.workspaces.resolve_workspace(workspace_id)
    beacon.workspaces.revoke_key(ws_id, parse_id(key_id, ApiKeyNotFoundError, "api key"),
                                 actor=ADMIN)
    return Response(status_code=204)


@router.post("/workspaces/{workspace_id}/pages", status_code=201)
def create_page(workspace_id: str, body: PageCreate, beacon: BeaconDep) -> dict:
    """Create a status page with a slug unique in the workspace."""
    ws_id = beacon.workspaces.resolve_workspace(workspace_id)
    beacon.workspaces.get_workspace(ws_id)
    beacon.configuration.check_not_owned(ws_id, "pages", body.slug, f"page {body.slug!r}")
    page = beacon.statuspages.create_page(ws_id, slug=body.slug, name=body.name, actor=ADMIN)
    return envelope({"id": str(page.id), "slug": page.slug, "name": page.name,
                     "workspace_id": str(ws_id), "created_at": iso(page.created_on)})
