"""Configuration as code (seed 004 `POST /api/deploy`): deploy a compiled beacon.yml, list the
deploys, roll back to an earlier version, or preview a deploy (`dryRun`) without changing anything."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pydantic import ValidationError as SchemaError

from application.config_deploys import Deployment
from application.workspaces import Principal
from domain.actor import Actor
from domain.configuration import PLAN
from domain.errors import ValidationError
from interfaces.bootstrap import Beacon
from interfaces.config_schema import BeaconConfig
from interfaces.rest.deps import BeaconDep, authenticate
from interfaces.rest.errors import Forbidden
from interfaces.rest.identity import Member, SignedIn, member_of
from interfaces.rest.representations import in_thread, iso, mark_position

router = APIRouter(tags=["configuration"])


@dataclass(frozen=True)
class Deployer:
    """Who deploys: the project's secret key and a signed-in member allowed to deploy there."""

    principal: Principal
    member: Member

    @property
    def workspace_id(self) -> UUID:
        return self.principal.workspace_id

    @property
    def actor(self) -> Actor:
        """The person, with the key they deployed with."""
        return {"key_id": str(self.principal.key.id), "name": self.member.person.actor["name"]}


def deployer(request: Request, beacon: BeaconDep, who: SignedIn) -> Deployer:
    """Seed 004: a secret key (`X-API-Key: sk_live_…`, the deploy scope) plus the CLI's access
    token (`Authorization: Bearer`) or a session (cookie and CSRF token) of a member of the
    key's project whose role may deploy (admin or owner; others 403)."""
    principal = authenticate(request, beacon, request.headers.get("x-api-key"))
    if not principal.key.allows("deploy"):
        raise Forbidden("this key lacks the deploy scope: send the project's secret key")
    member = member_of(beacon, who, str(principal.workspace_id), "deploy")
    return Deployer(principal, member)


DeployerDep = Annotated[Deployer, Depends(deployer)]


class DeployRequest(BaseModel):
    config: dict[str, Any] = Field(description="beacon.yml compiled to JSON (`beacon deploy`)")
    dryRun: bool = Field(default=False, description="preview the diff, change nothing")  # noqa: N815


def compiled(config: dict[str, Any]) -> dict[str, Any]:
    """The config as the server compiles it again (422 with each problem if it is not valid)."""
    try:
        return BeaconConfig.model_validate(config).compiled()
    except SchemaError as error:
        raise ValidationError("beacon.yml is not valid", details=[
            {"field": ".".join(str(p) for p in problem["loc"]), "message": problem["msg"]}
            for problem in error.errors()]) from None


def deploy_json(deploy: dict[str, Any]) -> dict[str, Any]:
    return {"version": deploy["version"], "author": deploy["author"],
            "deployedAt": iso(deploy["deployed_at"]), "diff": deploy["diff"],
            "rolledBackFrom": deploy["rolled_back_from"]}


async def _landed(beacon: Beacon, who: Deployer, command: Callable[..., Deployment],
                  what: Any) -> Response:
    """Run a deploy (or rollback) command; 201 when a new version is in force, 200 unchanged.
    The version and every object it owns were recorded in one transaction, or nothing was."""
    deployment = await in_thread(command, who.workspace_id, what, author=who.actor)
    beacon.tracking_plans.landed(deployment.configuration)  # this process's next request
    response = JSONResponse({"success": True, "version": deployment.version,
                             "changed": deployment.changed, "diff": deployment.diff,
                             "created": deployment.created},
                            status_code=201 if deployment.changed else 200)
    mark_position(response)
    return response


@router.post("/api/deploy", responses={201: {"description": "A new version is in force"}})
async def deploy(body: DeployRequest, who: DeployerDep, beacon: BeaconDep) -> Response:
    """Deploy a compiled beacon.yml as the next version (201), or, unchanged, answer 200;
    `dryRun` answers the diff and how the last 30 days' events fare under its tracking plan."""
    document = compiled(body.config)
    await in_thread(beacon.configured_objects.check, who.workspace_id, document)
    if body.dryRun:
        return JSONResponse(await in_thread(_preview, beacon, who, document))
    return await _landed(beacon, who, beacon.deploys.deploy, document)


def _preview(beacon: Beacon, who: Deployer, document: dict[str, Any]) -> dict[str, Any]:
    current = beacon.configuration.configuration(who.workspace_id)
    diff = beacon.configuration.preview(who.workspace_id, document)
    replay = beacon.configuration.replay_plan(who.workspace_id, document, beacon.stored_events) \
        if PLAN in diff else None
    return {"success": True, "dryRun": True, "version": current.deployed_version, "diff": diff,
            "trackingPlan": replay}


@router.get("/api/deploys")
def list_deploys(who: DeployerDep, beacon: BeaconDep) -> dict:
    """Every deploy of the project's configuration, newest first."""
    configuration = beacon.configuration.configuration(who.workspace_id)
    return {"success": True, "version": configuration.deployed_version,
            "deploys": [deploy_json(d) for d in reversed(configuration.deploys)]}


@router.post("/api/deploys/{version}/rollback", status_code=201,
             responses={200: {"description": "That version's configuration is in force already"}})
async def rollback(version: int, who: DeployerDep, beacon: BeaconDep) -> Response:
    """Deploy an earlier version's configuration again, as a new version."""
    return await _landed(beacon, who, beacon.deploys.rollback, version)
