"""Processes started together on a fresh PostgreSQL schema (the production shape's API,
projector and worker on a first start) all come up: one creates the tables, the others find them."""

from __future__ import annotations

import threading
from pathlib import Path

from domain.actor import ADMIN
from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon, bootstrap
from tests.services import fresh_schema, require_postgres


def test_three_processes_starting_at_once_on_a_fresh_schema_all_start(tmp_path: Path) -> None:
    url = require_postgres()
    with fresh_schema() as schema:
        settings = Settings(env="test", database_url=url, db_schema=schema, data_dir=tmp_path)
        started: list[Beacon] = []
        failures: list[BaseException] = []
        gate = threading.Barrier(3)

        def start() -> None:
            gate.wait()
            try:
                started.append(bootstrap(settings))
            except BaseException as error:  # noqa: BLE001 - reported below
                failures.append(error)

        threads = [threading.Thread(target=start) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        try:
            assert failures == []
            first, *others = started
            workspace = first.workspaces.create_workspace(name="Acme", plan="pro", actor=ADMIN)
            assert all(o.workspaces.get_workspace(workspace.id).name == "Acme" for o in others)
        finally:
            for beacon in started:
                beacon.close()
