"""Which commits wait for the disk on PostgreSQL: what a client was told is stored does, what the
log can make again does not. An admission (the batch and the quota's decision) commits durably;
the enrichment pipeline's records and every read-model page with its tracking position commit
asynchronously (a crash of the database may lose only their last pages, which are then made
again: infrastructure/read_models.py `ReadModelStore.apply`).

Told by the database itself: triggers note `synchronous_commit` as each transaction writes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from domain.tracked_event import check_event
from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon, bootstrap
from tests.conftest import ADMIN_TOKEN
from tests.services import fresh_schema, require_postgres

NOW = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)
NOTED = """
CREATE TABLE commit_notes (what TEXT NOT NULL, synchronous_commit TEXT NOT NULL);
CREATE FUNCTION note_event() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  INSERT INTO {schema}.commit_notes VALUES (NEW.topic, current_setting('synchronous_commit')); RETURN NEW;
END $$;
CREATE FUNCTION note_tracking() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  INSERT INTO {schema}.commit_notes VALUES ('tracking ' || NEW.name, current_setting('synchronous_commit'));
  RETURN NEW;
END $$;
CREATE TRIGGER noted AFTER INSERT ON telemetry_events FOR EACH ROW EXECUTE FUNCTION note_event();
CREATE TRIGGER noted AFTER UPDATE ON rm_tracking FOR EACH ROW EXECUTE FUNCTION note_tracking();
"""


@pytest.fixture
def durable_beacon(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Beacon, str]]:
    """A Beacon on PostgreSQL whose connections start as production's do: the suite's own
    PGOPTIONS (asynchronous commit everywhere, tests/conftest.py) taken away."""
    monkeypatch.delenv("PGOPTIONS", raising=False)
    url = require_postgres()
    with fresh_schema() as schema:
        beacon = bootstrap(Settings(env="test", data_dir=tmp_path, admin_token=ADMIN_TOKEN,
                                    database_url=url, db_schema=schema))
        with closing(beacon):
            yield beacon, schema


def notes(schema: str) -> dict[str, set[str]]:
    with psycopg.connect(require_postgres(), autocommit=True,
                         options=f"-c search_path={schema}") as conn:
        rows = conn.execute("SELECT what, synchronous_commit FROM commit_notes").fetchall()
    found: dict[str, set[str]] = {}
    for what, setting in rows:
        found.setdefault(what.rsplit(".", 1)[-1] if " " not in what else what, set()).add(setting)
    return found


def test_admissions_wait_for_the_disk_and_what_the_log_derives_does_not(
        durable_beacon: tuple[Beacon, str]) -> None:
    beacon, schema = durable_beacon
    with psycopg.connect(require_postgres(), autocommit=True,
                         options=f"-c search_path={schema}") as conn:
        conn.execute(NOTED.replace("{schema}", schema))
    workspace_id = uuid.uuid4()
    events = [check_event({"event_id": str(uuid.uuid4()), "category": "c", "name": "signup",
                           "actor_id": "a", "timestamp": "2026-03-20T14:30:00Z"}, NOW)
              for _ in range(3)]
    assert beacon.telemetry.ingest(workspace_id, events, limit=100).statuses == ["accepted"] * 3
    beacon.jobs.catch_up_projections()

    noted = notes(schema)
    # What a client was told is stored: the quota's decision and the batch.
    assert noted["Opened"] == noted["Decided"] == noted["Accepted"] == {"on"}
    assert noted["Derived"] == {"off"}  # the enrichment's records
    tracking = {what: settings for what, settings in noted.items() if what.startswith("tracking ")}
    assert {"tracking events", "tracking enrichment", "tracking enriched_events"} <= set(tracking)
    assert set().union(*tracking.values()) == {"off"}  # read-model pages, the pipeline's place
