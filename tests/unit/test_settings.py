"""Configuration fails fast on what would be unsafe in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from infrastructure.settings import Settings, eventsourcing_env, pool_budget


def test_production_refuses_a_missing_or_placeholder_admin_token() -> None:
    for token in ("", "changeme", "short"):
        with pytest.raises(ValidationError):
            Settings(env="production", admin_token=token)
    Settings(env="production", admin_token="a-long-random-token-0123456789")


def test_only_postgresql_urls_are_accepted() -> None:
    with pytest.raises(ValidationError):
        Settings(database_url="mysql://root@localhost/beacon")


def test_settings_map_onto_the_library_environment(tmp_path) -> None:
    sqlite = eventsourcing_env(Settings(data_dir=tmp_path), "StatusPages")
    assert sqlite["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert sqlite["SQLITE_DBNAME"].endswith("statuspages.sqlite")
    pg = eventsourcing_env(Settings(database_url="postgresql://u:p%40ss@db:6543/beacon",
                                    db_schema="s1"), "StatusPages")
    assert (pg["POSTGRES_HOST"], pg["POSTGRES_PORT"], pg["POSTGRES_USER"],
            pg["POSTGRES_PASSWORD"], pg["POSTGRES_DBNAME"], pg["POSTGRES_SCHEMA"]) == \
        ("db", "6543", "u", "p@ss", "beacon", "s1")
    assert "POSTGRES_ENABLE_DB_FUNCTIONS" not in pg


def test_the_pool_size_bounds_every_pool_of_a_process() -> None:
    settings = Settings(database_url="postgresql://u@db/beacon", db_pool_size=3)
    telemetry = eventsourcing_env(settings, "Telemetry")
    assert (telemetry["POSTGRES_POOL_SIZE"], telemetry["POSTGRES_MAX_OVERFLOW"]) == ("3", "3")
    for quiet in ("Workspaces", "StatusPages", "Monitoring", "Exports"):  # one shared pool of 2
        env = eventsourcing_env(settings, quiet)
        assert env["PERSISTENCE_MODULE"] == "infrastructure.database:SharedPostgresFactory"
        assert int(env["POSTGRES_POOL_SIZE"]) + int(env["POSTGRES_MAX_OVERFLOW"]) == 2
    assert pool_budget(settings) == 3 * 3 + 2
    with pytest.raises(ValidationError):
        Settings(db_pool_size=0)
