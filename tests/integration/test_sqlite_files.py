"""The embedded default lets go of its SQLite files when it closes: every thread's connection, the
projections' and the request threads' alike. Before, each closed Beacon left ~25 files open, and
a process that opens Beacon after Beacon (the test suite) ran out of file descriptors."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from infrastructure.database import SQLiteDatabase
from infrastructure.settings import Settings
from interfaces.bootstrap import bootstrap
from interfaces.rest.app import create_app
from tests.conftest import ADMIN_TOKEN, make_tenant


def open_under(directory: Path) -> list[str]:
    """The files under `directory` this process holds open."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed while listing
            continue
        if target.startswith(str(directory)):
            held.append(target)
    return held


def test_a_database_used_from_many_threads_closes_every_connection(tmp_path: Path) -> None:
    db = SQLiteDatabase(tmp_path / "read_models.sqlite")
    with db.transaction() as cur:
        cur.execute("CREATE TABLE t (n INTEGER)")
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert sorted(pool.map(lambda n: db.query("SELECT ? AS n", [n])[0]["n"], range(8))) == \
            list(range(8))
    assert open_under(tmp_path)  # the threads' connections, still open
    db.close()
    assert open_under(tmp_path) == []
    assert db.query("SELECT COUNT(*) AS n FROM t")[0]["n"] == 0  # used again: it reopens
    db.close()


def test_a_closed_beacon_holds_none_of_its_files(tmp_path: Path) -> None:
    settings = Settings(env="test", data_dir=tmp_path / "data",
                        admin_token=ADMIN_TOKEN)
    for _ in range(2):
        beacon = bootstrap(settings)
        beacon.start_projections()
        with TestClient(create_app(beacon)) as client:
            tenant = make_tenant(client, slug=f"acme-{uuid.uuid4().hex[:6]}")
            sent = client.post("/v1/events", headers=tenant.headers("ingest"), json=[
                {"event_id": str(uuid.uuid4()), "category": "shop", "name": "checkout",
                 "timestamp": datetime.now(UTC).isoformat(), "actor_id": "u1"}])
            assert sent.status_code == 200, sent.text
            assert client.get("/api/v1/alerts", headers=tenant.headers("read")).status_code == 200
        assert open_under(tmp_path)
        beacon.close()
        assert open_under(tmp_path) == []
