"""The `beacon` command tree."""

from __future__ import annotations

import typer

from interfaces.cli.admin import keys, pages, workspaces
from interfaces.cli.deploy import deploy, deploys
from interfaces.cli.enrich import enrich
from interfaces.cli.people import login, logout, projects, users
from interfaces.cli.processes import projector, worker
from interfaces.cli.projections import projections
from interfaces.cli.serve import serve

app = typer.Typer(name="beacon", help="Beacon: event-sourced telemetry, status pages, heartbeats.",
                  no_args_is_help=True, add_completion=False)
app.command()(serve)
app.command()(projector)
app.command()(worker)
app.command()(enrich)
app.add_typer(projections, name="projections")
app.add_typer(workspaces, name="workspaces")
app.add_typer(keys, name="keys")
app.add_typer(pages, name="pages")
app.add_typer(users, name="users")
app.add_typer(projects, name="projects")
app.command()(login)
app.command()(logout)
app.command()(deploy)
app.add_typer(deploys, name="deploys")


def main() -> None:
    """Entry point of the `beacon` script."""
    app()
