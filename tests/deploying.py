"""What the deploy tests share: a project's secret key, a beacon.yml, and calls to the API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import ADMIN, Tenant

NOW = datetime.now(UTC).replace(microsecond=0)


def secret_key(client: TestClient, tenant: Tenant, role: str = "admin") -> dict[str, str]:
    """Headers as `beacon deploy` sends them: a key with the deploy scope, and the CLI access
    token of a member of the project with `role`."""
    response = client.post(f"/admin/v1/workspaces/{tenant.id}/keys",
                           json={"name": "ci deploys", "scopes": ["deploy"]}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return {"X-API-Key": response.json()["data"]["key"],
            "Authorization": f"Bearer {access_token(client, tenant, role)}"}


def access_token(client: TestClient, tenant: Tenant, role: str) -> str:
    """A member's CLI access token, as `beacon login` gets it (a one-time code, exchanged)."""
    beacon: Beacon = client.app.state.beacon  # type: ignore[attr-defined]
    user = beacon.workspaces.create_user(email=f"{role}-{uuid.uuid4().hex[:8]}@example.com",
                                         password="correct horse battery")
    beacon.workspaces.add_member(uuid.UUID(tenant.id), user, role, {"key_id": None, "name": "admin"})
    _, code = beacon.workspaces.issue_cli_code(user.id)
    exchanged = client.post("/api/cli/validate", json={"token": code})
    assert exchanged.status_code == 200, exchanged.text
    return str(exchanged.json()["data"]["access_token"])


def plan(policy: str = "reject", **events: Any) -> dict[str, Any]:
    events = events or {"signup_completed": {"properties": {
        "plan": {"type": "string", "required": True, "allowed": ["free", "pro"]}}}}
    return {"on_violation": policy, "events": events}


def config(policy: str = "reject", **sections: Any) -> dict[str, Any]:
    return {"tracking_plan": plan(policy), **sections}


def deploy(client: TestClient, key: dict[str, str], document: dict[str, Any],
           dry_run: bool = False) -> Any:
    return client.post("/api/deploy", json={"config": document, "dryRun": dry_run}, headers=key)


def event(name: str = "signup_completed", **properties: Any) -> dict[str, Any]:
    """An event of seed 000 (`POST /v1/events`), happening now."""
    return {"event_id": str(uuid.uuid4()), "category": "product", "name": name,
            "timestamp": NOW.isoformat(), "actor_id": "user-1", "properties": properties}


def graphql(client: TestClient, tenant: Tenant, query: str) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query}, headers=tenant.headers("read"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"])
