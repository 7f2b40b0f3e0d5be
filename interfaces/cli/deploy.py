"""`beacon deploy`: validate beacon.yml, compile it to JSON and send it to `POST /api/deploy`;
`beacon deploys list|rollback` for the versions deployed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
import yaml
from pydantic import ValidationError
from rich.markup import escape

from interfaces.cli.console import console, fail, messages
from interfaces.cli.credentials import load_credentials
from interfaces.config_schema import BeaconConfig

deploys = typer.Typer(help="List and roll back deploys of beacon.yml.", no_args_is_help=True)

Url = Annotated[str, typer.Option("--url", envvar="BEACON_URL",
                                   help="Beacon's base URL (default: the one `beacon login` used).")]
SecretKey = Annotated[str, typer.Option("--key", envvar="BEACON_SECRET_KEY",
                                        help="The project's secret key (deploy scope).")]
DEFAULT_URL = ""


def compile_file(path: Path) -> dict[str, Any]:
    """beacon.yml validated and compiled to the JSON a deploy sends (exit 2 with each problem)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}", code=2)
    except yaml.YAMLError as error:
        fail(f"{path} is not valid YAML: {error}", code=2)
    try:
        return BeaconConfig.model_validate(raw).compiled()
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(p) for p in problem["loc"])
            messages.print(f"[red]{escape(path.name)}: {escape(where)}: {escape(problem['msg'])}[/red]")
        raise typer.Exit(2) from None


def call(method: str, url: str, key: str, path: str, body: Any = None) -> dict[str, Any]:
    """One request to the app API with the secret key and the access token `beacon login`
    stored; a refusal is printed with its reasons and exits 1."""
    if not key:
        fail("no secret key: pass --key or set BEACON_SECRET_KEY (the project's sk_live_ key)",
             code=2)
    credentials = load_credentials()
    if credentials is None:
        fail("not signed in: run `beacon login --url URL` first", code=2)
    base = (url or credentials.url).rstrip("/")
    try:
        response = httpx.request(method, base + path, json=body, timeout=60,
                                 headers={"X-API-Key": key, **credentials.headers()})
    except httpx.HTTPError as error:
        fail(f"cannot reach {base}: {error}")
    answer: dict[str, Any] = response.json() if response.content else {}
    if response.status_code >= 400:
        refusal = answer.get("error", {})
        for detail in refusal.get("details", []):
            messages.print(f"[red]  {escape(str(detail.get('field', '')))}: "
                           f"{escape(str(detail.get('message', '')))}[/red]")
        fail(f"{response.status_code} {refusal.get('code', '')}: "
             f"{refusal.get('message', response.text)}")
    return answer


def print_diff(diff: dict[str, Any]) -> None:
    if not diff:
        console.print("no changes")
    for section, changes in diff.items():
        if section == "tracking_plan":
            for key, (before, after) in changes.get("settings", {}).items():
                console.print(f"~ tracking_plan.{key}: {before} -> {after}")
            changes = changes.get("events", {})
            section = "tracking_plan.events"
        for kind, mark in (("added", "+"), ("changed", "~"), ("removed", "-")):
            for name in changes.get(kind, []):
                console.print(f"{mark} {section}.{name}" + (" (released)" if kind == "removed" else ""))


def print_replay(replay: dict[str, Any]) -> None:
    console.print(f"tracking plan, replayed over the last {replay['days']} days: "
                  f"{replay['violating_events']} of {replay['events_checked']} stored events "
                  "would have violated it")
    for top in replay["top_violations"]:
        console.print(f"  {top['count']:>8}  {top['event']}  {top['field']}: {top['message']}")


def deploy(
    file: Annotated[Path, typer.Argument(help="The configuration file.")] = Path("beacon.yml"),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the diff; change nothing.")] = False,
    url: Url = DEFAULT_URL,
    key: SecretKey = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the server's answer as JSON.")] = False,
) -> None:
    """Validate beacon.yml, compile it and deploy it as the project's next configuration version."""
    document = compile_file(file)
    answer = call("POST", url, key, "/api/deploy", {"config": document, "dryRun": dry_run})
    if as_json:
        console.print_json(json.dumps(answer))
        return
    print_diff(answer["diff"])
    if dry_run:
        if answer.get("trackingPlan"):
            print_replay(answer["trackingPlan"])
        console.print(f"dry run: version {answer['version']} stays in force")
        return
    for created in answer.get("created", []):
        print_created(created)
    console.print(f"version {answer['version']} in force" if answer["changed"]
                  else f"unchanged: version {answer['version']} stays in force")


def print_created(created: dict[str, Any]) -> None:
    """A page, monitor or alert rule the deploy made, with what is shown this once."""
    if created["kind"] != "alert":
        line = f"created {created['kind']} {created['name']}"
        console.print(line + (f" (token, shown once: {created['token']})" if "token" in created else ""))
        return
    for channel in created["channels"]:
        console.print(f"alert {created['name']}: channel {channel['url']} signs with "
                      f"{channel['secret']} (shown once)")


@deploys.command("list")
def list_deploys(url: Url = DEFAULT_URL, key: SecretKey = "") -> None:
    """Every deploy, newest first."""
    for d in call("GET", url, key, "/api/deploys")["deploys"]:
        back = f" (rollback to {d['rolledBackFrom']})" if d["rolledBackFrom"] else ""
        console.print(f"{d['version']:>4}  {d['deployedAt']}  {d['author']['name']}{back}")


@deploys.command("rollback")
def rollback(version: Annotated[int, typer.Argument(help="The version to deploy again.")],
             url: Url = DEFAULT_URL, key: SecretKey = "") -> None:
    """Deploy an earlier version's configuration again, as a new version."""
    answer = call("POST", url, key, f"/api/deploys/{version}/rollback")
    print_diff(answer["diff"])
    console.print(f"version {answer['version']} in force")
