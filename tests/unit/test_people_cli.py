"""`beacon users create`, the demo login of a first start, and the CLI's credentials file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from infrastructure.settings import Settings
from interfaces.cli.credentials import (
    Credentials,
    credentials_path,
    forget_credentials,
    load_credentials,
    save_credentials,
)
from interfaces.cli.first_start import prepare_first_start
from tests.unit.test_cli import beacon_cli, data_dir, opened_beacon  # noqa: F401 - a fixture


def test_a_user_created_from_the_cli_can_sign_in() -> None:
    created = beacon_cli("users", "create", "Ann@Example.com", "--name", "Ann",
                         "--password", "correct horse battery")
    assert created.exit_code == 0, created.output
    again = beacon_cli("users", "create", "ann@example.com", "--password", "correct horse battery")
    assert again.exit_code == 1 and "exists" in again.stderr
    with opened_beacon() as beacon:
        user = beacon.workspaces.check_login("ann@example.com", "correct horse battery")
    assert user is not None and str(user.id) == created.stdout.strip()


def test_the_first_start_prints_a_demo_login_that_owns_the_demo_workspace() -> None:
    settings = Settings()
    with opened_beacon(settings) as beacon:
        demo = prepare_first_start(beacon, settings)
        assert demo is not None
        login = demo["login"]
        user = beacon.workspaces.check_login(login["email"], login["password"])
        assert user is not None
        assert beacon.workspaces.role_in(beacon.workspaces.resolve_workspace("demo"),
                                         user.id) == "owner"


def test_credentials_are_kept_in_the_xdg_config_dir_for_the_owner_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert load_credentials() is None
    path = save_credentials(Credentials(url="http://beacon.test", token="bka_x", token_id="1"))
    assert path == credentials_path() == tmp_path / "config" / "beacon" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_credentials() == Credentials(url="http://beacon.test", token="bka_x", token_id="1")
    assert forget_credentials() and load_credentials() is None


def test_a_first_start_makes_its_data_directory(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "fresh" / ".beacon")
    with opened_beacon(settings) as beacon:
        demo = prepare_first_start(beacon, settings)
    assert demo is not None and (tmp_path / "fresh" / ".beacon" / "demo.json").exists()
