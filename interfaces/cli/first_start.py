"""What `beacon serve` prepares in development: an admin token and, once, a demo workspace."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from domain.actor import ADMIN
from domain.api_key import SCOPES
from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon

DEMO_PLAN = "starter"  # not "free", so trying Beacon out is not throttled
DEMO_EMAIL = "demo@beacon.localhost"


def admin_token_path(settings: Settings) -> Path:
    return settings.data_dir / "admin_token"


def demo_path(settings: Settings) -> Path:
    return settings.data_dir / "demo.json"


def write_secret(path: Path, text: str) -> None:
    """Write a file only its owner can read, replacing any previous one atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)
    os.chmod(partial, 0o600)  # a stale partial file may have had another mode
    os.replace(partial, path)


def ensure_admin_token(settings: Settings) -> Settings:
    """Settings with an admin token: the configured one, the one kept in data_dir, or a new one."""
    if settings.admin_token:
        return settings
    path = admin_token_path(settings)
    token = path.read_text().strip() if path.exists() else ""
    if not token:
        token = secrets.token_urlsafe(32)
        write_secret(path, token + "\n")
    return settings.model_copy(update={"admin_token": token})


def prepare_first_start(beacon: Beacon, settings: Settings) -> dict[str, Any] | None:
    """On a development first start, create a demo workspace, page, one key per scope, and a
    demo user who owns the workspace (its password is printed and kept in demo.json).

    Returns what it wrote to demo.json, or None when that was done before (or in production).
    """
    path = demo_path(settings)
    if settings.env == "production" or path.exists():
        return None
    workspace = beacon.workspaces.create_workspace(name="Demo", plan=DEMO_PLAN, actor=ADMIN,
                                                   slug=beacon.workspaces.free_slug("demo"))
    page = beacon.statuspages.create_page(workspace.id, slug="demo", name="Demo status",
                                          actor=ADMIN)
    keys = {}
    for scope in SCOPES:
        key, token = beacon.workspaces.issue_key(workspace.id, name=f"demo {scope}",
                                                 scopes=[scope], actor=ADMIN)
        keys[scope] = {"id": str(key.id), "key": token}
    password = secrets.token_urlsafe(12)
    user = beacon.workspaces.find_user(DEMO_EMAIL) or beacon.workspaces.create_user(
        email=DEMO_EMAIL, password=password, name="Demo user")
    beacon.workspaces.add_member(workspace.id, user, "owner", ADMIN)
    demo = {"workspace_id": str(workspace.id), "workspace_slug": workspace.slug,
            "workspace_name": workspace.name, "plan": workspace.plan, "page_slug": page.slug,
            "page_name": page.name, "keys": keys,
            "login": {"email": user.email, "password": password}}
    write_secret(path, json.dumps(demo, indent=2) + "\n")
    return demo
