"""The `beacon` command, run in-process against SQLite files in a temporary data directory."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID

import pytest
from typer.testing import CliRunner, Result

from domain.actor import ADMIN
from domain.api_key import KEY_PREFIX, SCOPES
from domain.workspace import PLANS
from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon, bootstrap
from interfaces.cli import app
from interfaces.cli.admin import Plan, Scope
from interfaces.cli.first_start import ensure_admin_token, prepare_first_start
from interfaces.cli.serve import public_url

BEACON_VARIABLES = ("BEACON_ENV", "BEACON_DATABASE_URL", "BEACON_DB_SCHEMA", "BEACON_REDIS_URL",
                    "BEACON_ADMIN_TOKEN", "BEACON_HOST", "BEACON_PORT")


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in BEACON_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BEACON_DATA_DIR", str(tmp_path))
    return tmp_path


def beacon_cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@contextmanager
def opened_beacon(settings: Settings | None = None) -> Iterator[Beacon]:
    beacon = bootstrap(settings or Settings())
    try:
        yield beacon
    finally:
        beacon.close()


def the_key_in(output: str) -> str:
    return next(word for word in output.split() if word.startswith(KEY_PREFIX))


def test_a_workspace_key_and_page_created_from_the_cli_work_together() -> None:
    created = beacon_cli("workspaces", "create", "Acme", "--plan", "pro")
    assert created.exit_code == 0, created.output
    workspace_id = UUID(created.stdout.strip())

    issued = beacon_cli("keys", "create", str(workspace_id), "--name", "ci",
                        "--scope", "ingest", "--scope", "read")
    assert issued.exit_code == 0, issued.output
    assert "shown only this once" in issued.stderr

    page = beacon_cli("pages", "create", str(workspace_id), "--slug", "acme", "--name", "Acme")
    assert page.exit_code == 0, page.output

    with opened_beacon() as beacon:
        principal = beacon.workspaces.authenticate(the_key_in(issued.stdout))
        assert principal is not None
        assert principal.workspace_id == workspace_id
        assert principal.workspace.plan == "pro"
        assert principal.key.scopes == ["ingest", "read"]
        assert beacon.statuspages.get_page(workspace_id, "acme").name == "Acme"


def test_a_key_for_an_unknown_workspace_is_refused_with_exit_1() -> None:
    result = beacon_cli("keys", "create", str(UUID(int=1)), "--name", "ci", "--scope", "read")

    assert result.exit_code == 1
    assert "workspace not found" in result.stderr


def test_a_page_for_an_unknown_workspace_is_refused_with_exit_1() -> None:
    result = beacon_cli("pages", "create", str(UUID(int=1)), "--slug", "acme", "--name", "Acme")

    assert result.exit_code == 1
    assert "workspace not found" in result.stderr


def test_a_domain_rule_broken_from_the_cli_prints_its_message_and_exits_1() -> None:
    workspace_id = beacon_cli("workspaces", "create", "Acme").stdout.strip()
    beacon_cli("pages", "create", workspace_id, "--slug", "acme", "--name", "Acme")

    again = beacon_cli("pages", "create", workspace_id, "--slug", "acme", "--name", "Acme")

    assert again.exit_code == 1
    assert "already exists" in again.stderr


def test_an_unknown_scope_is_a_usage_error() -> None:
    workspace_id = beacon_cli("workspaces", "create", "Acme").stdout.strip()

    result = beacon_cli("keys", "create", workspace_id, "--name", "ci", "--scope", "admin")

    assert result.exit_code == 2


def test_the_cli_offers_exactly_the_domains_plans_and_scopes() -> None:
    assert [p.value for p in Plan] == list(PLANS)
    assert tuple(s.value for s in Scope) == SCOPES


def test_projections_status_lists_every_projection_with_its_lag() -> None:
    result = beacon_cli("projections", "status")

    assert result.exit_code == 0, result.output
    assert "incidents" in result.stdout
    assert "lag" in result.stdout


def open_an_incident() -> tuple[UUID, int]:
    """A workspace with one incident on its page; returns the workspace and the log's head."""
    with opened_beacon() as beacon:
        workspace = beacon.workspaces.create_workspace(name="Acme", plan="free", actor=ADMIN)
        beacon.statuspages.create_page(workspace.id, slug="acme", name="Acme", actor=ADMIN)
        beacon.statuspages.open_incident(workspace.id, "acme", title="API down", impact="major",
                                         state="investigating", message=None, actor=ADMIN)
        return workspace.id, beacon.runner("incidents").head()


def test_rebuilding_incidents_replays_the_whole_history() -> None:
    workspace_id, head = open_an_incident()

    result = beacon_cli("projections", "rebuild", "incidents")

    assert result.exit_code == 0, result.output
    assert "rebuilt incidents" in result.stdout
    # how long each phase took, for an operator sizing the next rebuild
    assert re.search(r"load\s+[\d.]+s,\s+indexes\s+[\d.]+s,\s+vacuum\s+[\d.]+s,\s+swap\s+[\d.]+s",
                     result.stdout)  # \s+: the console wraps at its width
    with opened_beacon() as beacon:
        assert beacon.runner("incidents").status().position == head
        assert beacon.incidents.list_incidents(workspace_id, "acme").total == 1


def test_rebuilding_all_rebuilds_every_projection() -> None:
    open_an_incident()

    result = beacon_cli("projections", "rebuild", "--all")

    assert result.exit_code == 0, result.output
    with opened_beacon() as beacon:
        for runner in beacon.runners:
            # The enrichment pipeline records events: it has no read model to rebuild.
            assert (f"rebuilt {runner.name}" in result.stdout) == runner.rebuildable
            assert runner.status().lag == 0


def test_rebuilding_an_unknown_projection_exits_2_naming_the_known_ones() -> None:
    result = beacon_cli("projections", "rebuild", "nope")

    assert result.exit_code == 2
    assert "unknown projection 'nope'" in result.stderr
    assert "incidents" in result.stderr


def test_rebuild_needs_either_a_name_or_all() -> None:
    assert beacon_cli("projections", "rebuild").exit_code == 2
    assert beacon_cli("projections", "rebuild", "incidents", "--all").exit_code == 2


def test_a_worker_without_redis_exits_and_says_why() -> None:
    result = beacon_cli("worker")

    assert result.exit_code != 0
    assert "BEACON_REDIS_URL" in result.stderr


def test_production_without_an_admin_token_is_refused_with_a_message(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEACON_ENV", "production")

    result = beacon_cli("projections", "status")

    assert result.exit_code == 1
    assert "BEACON_ADMIN_TOKEN" in result.stderr


def test_the_first_start_creates_the_demo_workspace_only_once(data_dir: Path) -> None:
    settings = Settings()
    with opened_beacon(settings) as beacon:
        demo = prepare_first_start(beacon, settings)
        head = beacon.workspaces.recorder.max_notification_id()

        assert demo is not None
        workspace = beacon.workspaces.get_workspace(UUID(demo["workspace_id"]))
        assert (workspace.name, workspace.plan) == ("Demo", "starter")
        assert beacon.statuspages.get_page(workspace.id, "demo").name == "Demo status"
        assert prepare_first_start(beacon, settings) is None
        assert beacon.workspaces.recorder.max_notification_id() == head
    written = data_dir / "demo.json"
    assert json.loads(written.read_text()) == demo
    assert stat.S_IMODE(written.stat().st_mode) == 0o600


def test_the_demo_keys_authenticate_with_one_scope_each() -> None:
    settings = Settings()
    with opened_beacon(settings) as beacon:
        demo = prepare_first_start(beacon, settings)
        assert demo is not None

        for scope, key in demo["keys"].items():
            principal = beacon.workspaces.authenticate(key["key"])
            assert principal is not None
            assert str(principal.workspace_id) == demo["workspace_id"]
            assert str(principal.key.id) == key["id"]
            assert principal.key.scopes == [scope]
        assert sorted(demo["keys"]) == sorted(SCOPES)


def test_production_never_gets_a_demo_workspace(data_dir: Path) -> None:
    settings = Settings(env="production", admin_token="p" * 32)
    with opened_beacon(settings) as beacon:
        assert prepare_first_start(beacon, settings) is None
    assert not (data_dir / "demo.json").exists()


def test_the_development_admin_token_is_generated_once_and_kept_private(data_dir: Path) -> None:
    first = ensure_admin_token(Settings())
    second = ensure_admin_token(Settings())

    assert len(first.admin_token) >= 32
    assert second.admin_token == first.admin_token
    stored = data_dir / "admin_token"
    assert stored.read_text().strip() == first.admin_token
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600


def test_a_configured_admin_token_is_used_as_is(data_dir: Path) -> None:
    settings = ensure_admin_token(Settings(admin_token="given-by-the-operator"))

    assert settings.admin_token == "given-by-the-operator"
    assert not (data_dir / "admin_token").exists()


def test_a_wildcard_bind_address_is_shown_as_loopback() -> None:
    assert public_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert public_url("::", 8000) == "http://[::1]:8000"
    assert public_url("10.0.0.5", 9000) == "http://10.0.0.5:9000"
