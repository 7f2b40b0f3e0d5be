"""`beacon users create`, `beacon login|logout` and `beacon projects list|create|delete`.

`users create` works on the local installation (like `workspaces create`); the others talk to a
Beacon over HTTP with the access token `beacon login` stored (interfaces/cli/credentials.py).
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import typer

from interfaces.cli.console import fail, messages
from interfaces.cli.credentials import (
    Credentials,
    credentials_path,
    forget_credentials,
    load_credentials,
    save_credentials,
)
from interfaces.cli.lifecycle import load_settings, running

users = typer.Typer(help="Create users (people who sign in).", no_args_is_help=True)
projects = typer.Typer(help="List, create and delete your projects on the Beacon you logged in "
                       "to.",
                       no_args_is_help=True)


@users.command("create")
def create_user(
    email: Annotated[str, typer.Argument(help="The user's email, their sign-in name.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True,
                                          help="At least 10 characters.")],
    name: Annotated[str, typer.Option(help="The name shown in the dashboard.")] = "",
) -> None:
    """Create a user who can sign in with this email and password."""
    with running(load_settings()) as beacon:
        user = beacon.workspaces.create_user(email=email, password=password, name=name)
    typer.echo(user.id)


def _answer(response: httpx.Response) -> Any:
    """The `data` of a 2xx answer, or the error's message and exit 1."""
    if response.is_success:
        return response.json()["data"] if response.content else None
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text or response.reason_phrase
    fail(f"{response.status_code}: {message}")


def _request(method: str, url: str, **kwargs: Any) -> Any:
    try:
        return _answer(httpx.request(method, url, timeout=30, **kwargs))
    except httpx.HTTPError as error:
        fail(f"cannot reach {url}: {error}")


def signed_in() -> Credentials:
    credentials = load_credentials()
    if credentials is None:
        fail("not logged in: run `beacon login --url URL` first")
    return credentials


def login(
    url: Annotated[str, typer.Option(help="The Beacon to log in to, e.g. http://127.0.0.1:8000")],
    code: Annotated[str, typer.Option(prompt="One-time code (create it in the dashboard, or "
                                              "POST /api/cli/tokens)",
                                      help="The one-time CLI code.")],
) -> None:
    """Log in with a one-time code; the access token is stored, readable by you only."""
    url = url.rstrip("/")
    data = _request("POST", f"{url}/api/cli/validate", json={"token": code.strip()})
    path = save_credentials(Credentials(url=url, token=data["access_token"], token_id=data["id"]))
    messages.print(f"Logged in to {url} as {data['user']['email']} (token in {path})")


def logout() -> None:
    """Revoke the stored access token and forget it."""
    credentials = load_credentials()
    if credentials is None:
        messages.print("Not logged in.")
        return
    if credentials.token_id:
        try:
            httpx.delete(f"{credentials.url}/api/cli/access-tokens/{credentials.token_id}",
                         headers=credentials.headers(), timeout=30)
        except httpx.HTTPError as error:
            messages.print(f"[yellow]could not revoke the token ({error}); forgetting it[/yellow]")
    forget_credentials()
    messages.print(f"Logged out ({credentials_path()} removed).")


@projects.command("list")
def list_projects() -> None:
    """Your projects: slug, your role, name and id."""
    credentials = signed_in()
    for project in _request("GET", f"{credentials.url}/api/projects",
                            headers=credentials.headers()):
        typer.echo(f"{project['slug']}\t{project['role']}\t{project['name']}\t{project['id']}")


@projects.command("create")
def create_project(
    name: Annotated[str, typer.Argument(help="The project's name.")],
    slug: Annotated[str | None, typer.Option(help="Lowercase, URL-safe; from the name if "
                                                  "not given.")] = None,
) -> None:
    """Create a project you own; its public and secret keys are printed once."""
    credentials = signed_in()
    body: dict[str, Any] = {"name": name, **({"slug": slug} if slug else {})}
    project = _request("POST", f"{credentials.url}/api/projects", json=body,
                       headers=credentials.headers())
    typer.echo(f"project     {project['slug']} ({project['id']})")
    typer.echo(f"public key  {project['keys']['public']['key']}")
    typer.echo(f"secret key  {project['keys']['secret']['key']}")
    messages.print("[yellow]The keys are shown only this once: store them now.[/yellow]")


@projects.command("delete")
def delete_project(
    slug: Annotated[str, typer.Argument(help="The project's slug.")],
    confirm: Annotated[str, typer.Option(
        prompt="Deleting stops its keys, pages and monitors at once and cannot be undone. "
               "Type the project's slug to confirm",
        help="The project's slug again, to confirm without a prompt.")],
) -> None:
    """Delete a project you own: its keys stop working, its data leaves the dashboard, its history
    is kept, and its slug is never used again."""
    credentials = signed_in()
    if confirm.strip() != slug:
        fail(f"not deleted: {confirm.strip()!r} is not {slug!r}")
    _request("DELETE", f"{credentials.url}/api/projects/{slug}", json={"confirm": confirm.strip()},
             headers=credentials.headers())
    messages.print(f"Deleted {slug}.")
