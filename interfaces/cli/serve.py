"""`beacon serve`: the HTTP API, with embedded projections and worker unless told otherwise."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
import uvicorn
from rich.panel import Panel
from rich.table import Table

from infrastructure.settings import Settings
from interfaces.cli.console import console, fail
from interfaces.cli.first_start import demo_path, ensure_admin_token, prepare_first_start
from interfaces.cli.lifecycle import configure_logging, load_settings, running

# Seconds a stopping server gives open requests: live streams never end on their own, and a
# restart must not wait for their clients to hang up (they resume by Last-Event-ID).
SHUTDOWN_GRACE = 5


def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default: BEACON_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (default: BEACON_PORT)")] = None,
    no_projections: Annotated[bool, typer.Option(
        "--no-projections", help="Leave projections to a `beacon projector`.")] = False,
    no_worker: Annotated[bool, typer.Option(
        "--no-worker", help="Leave background jobs to `beacon worker` processes.")] = False,
    workers: Annotated[int, typer.Option(
        min=1, help="API processes; more than one needs --no-projections --no-worker.")] = 1,
) -> None:
    """Serve the REST and GraphQL API."""
    settings = load_settings()
    if workers > 1 and not (no_projections and no_worker):
        fail("--workers above 1 serves the API only: add --no-projections --no-worker and run "
             "`beacon projector` and `beacon worker` beside it", code=2)
    host = host if host is not None else settings.host
    port = port if port is not None else settings.port
    configure_logging(settings)
    development = settings.env != "production"
    if development:
        settings = ensure_admin_token(settings)
    with running(settings) as beacon:
        beacon.workspaces.assign_missing_slugs()  # workspaces made before slugs existed
        beacon.deletions.finish_deletions()  # a purge a crash interrupted
        url = public_url(host, port)
        if development:
            show_development_banner(url, settings, prepare_first_start(beacon, settings))
        else:
            console.print(f"Beacon listening on {url}")
        if not no_projections:
            beacon.start_projections()
        if not no_worker:
            beacon.start_worker()
        if workers > 1:
            os.environ["BEACON_ADMIN_TOKEN"] = settings.admin_token  # the processes read env
            uvicorn.run("interfaces.asgi:create_asgi_app", factory=True, workers=workers,
                        host=host, port=port, log_config=None, access_log=False,
                        timeout_graceful_shutdown=SHUTDOWN_GRACE)
            return
        from interfaces.rest.app import create_app, tune_garbage_collection  # only this command serves

        # Beacon logs one structured line per request itself; uvicorn's access log would repeat it.
        app = create_app(beacon)
        tune_garbage_collection()
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False,
                    timeout_graceful_shutdown=SHUTDOWN_GRACE)


def public_url(host: str, port: int) -> str:
    """A URL one can open: a wildcard bind address is reachable on loopback."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def show_development_banner(url: str, settings: Settings, demo: dict[str, Any] | None) -> None:
    """The secrets a developer needs to try Beacon; never called in production."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("URL", url)
    grid.add_row("admin token", settings.admin_token)
    if demo is None:
        grid.add_row("demo workspace", str(demo_path(settings)))
        console.print(Panel(grid, title="Beacon (development)", expand=False))
        return
    grid.add_row("workspace id", demo["workspace_id"])
    grid.add_row("page slug", demo["page_slug"])
    for scope, key in demo["keys"].items():
        grid.add_row(f"{scope} key", key["key"])
    grid.add_row("demo login", f"{demo['login']['email']}  {demo['login']['password']}")
    grid.add_row("saved in", str(demo_path(settings)))
    console.print(Panel(grid, title="Beacon: demo workspace created", expand=False))
