"""`beacon workspaces|keys|pages create`: an operator's way to set up tenants without the API."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from domain.actor import ADMIN
from interfaces.cli.console import messages
from interfaces.cli.lifecycle import load_settings, running

workspaces = typer.Typer(help="Create workspaces (tenants).", no_args_is_help=True)
keys = typer.Typer(help="Issue API keys.", no_args_is_help=True)
pages = typer.Typer(help="Create status pages.", no_args_is_help=True)



# Spelled out for the parser; a test checks they match domain.workspace.PLANS and api_key.SCOPES.
class Plan(StrEnum):
    free = "free"
    starter = "starter"
    pro = "pro"
    enterprise = "enterprise"


class Scope(StrEnum):
    ingest = "ingest"
    write = "write"
    read = "read"
    deploy = "deploy"
    manage = "manage"


@workspaces.command("create")
def create_workspace(
    name: Annotated[str, typer.Argument(help="The workspace's name.")],
    plan: Annotated[Plan, typer.Option(help="Sets the rate and monthly event limits.")] = Plan.free,
) -> None:
    """Create a workspace and print its id (its slug is derived from the name)."""
    with running(load_settings()) as beacon:
        workspace = beacon.workspaces.create_workspace(name=name, plan=plan.value, actor=ADMIN)
    typer.echo(workspace.id)


@keys.command("create")
def create_key(
    workspace: Annotated[str, typer.Argument(help="The workspace's id or slug.")],
    name: Annotated[str, typer.Option(help="What the key is for.")],
    scope: Annotated[list[Scope], typer.Option(help="Repeat for several scopes.")],
) -> None:
    """Issue an API key; the key itself is printed once and never stored."""
    with running(load_settings()) as beacon:
        key, token = beacon.workspaces.issue_key(
            beacon.workspaces.resolve_workspace(workspace), name=name,
            scopes=[s.value for s in scope], actor=ADMIN)
    typer.echo(f"key id  {key.id}")
    typer.echo(f"key     {token}")
    messages.print("[yellow]The key is shown only this once: store it now.[/yellow]")


@pages.command("create")
def create_page(
    workspace: Annotated[str, typer.Argument(help="The workspace's id or slug.")],
    slug: Annotated[str, typer.Option(help="Lowercase letters, digits and hyphens.")],
    name: Annotated[str, typer.Option(help="The title shown on the page.")],
) -> None:
    """Create a status page in a workspace."""
    with running(load_settings()) as beacon:
        workspace_id = beacon.workspaces.resolve_workspace(workspace)
        beacon.workspaces.get_workspace(workspace_id)  # pages live in another context: check here
        page = beacon.statuspages.create_page(workspace_id, slug=slug, name=name, actor=ADMIN)
    typer.echo(f"page {page.slug} created in workspace {workspace_id}")
